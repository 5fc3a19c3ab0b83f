import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { rowsOf } from '../../src/db/client.ts';

describe('respondents admin API', () => {
  const ctx = setupApp();
  const base = (slug: string) => `/api/admin/surveys/${slug}/respondents`;
  const post = (admin: TestAdmin, slug: string, payload: Record<string, unknown>) =>
    ctx.inject({ method: 'POST', url: base(slug), headers: admin.headers, payload });

  async function events(surveySlug: string, type: string) {
    const db = ctx.services().database.db;
    return rowsOf<{ payload: { respondent: { userId: number; username: string }; data: Record<string, unknown> } }>(
      await db.execute(sql`SELECT e.payload FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${surveySlug} AND e.type = ${type} ORDER BY e.seq`),
    );
  }

  it('creates a respondent with labels at top level, an auth token and auth URLs, and emits respondent.created', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const res = await post(admin, slug, {
      username: 'P-001', name: 'Ann', email: 'ann@example.org', phone: '+44 20 7946 0000', redirectUrl: 'https://panel.example/done?u=P-001',
      l1: 'group A', l10: 'ten', customFields: { cohort: '2024' },
    });
    expect(res.statusCode).toBe(201);
    const r = res.json();
    expect(r).toMatchObject({ username: 'P-001', name: 'Ann', l1: 'group A', l2: null, l10: 'ten', customFields: { cohort: '2024' }, status: 'created', createdVia: 'admin', hasPassword: false });
    expect(typeof r.userId).toBe('number');
    expect(r.authToken).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{31,}$/);
    expect(r.authUrl).toBe(`http://127.0.0.1:3000/surveys/${slug}?auth=${r.authToken}`);
    expect(r.shortAuthUrl).toBe(`http://127.0.0.1:3000/a/${r.authToken}`);
    const evs = await events(slug, 'respondent.created');
    expect(evs).toHaveLength(1);
    expect(evs[0].payload.respondent).toEqual({ userId: r.userId, username: 'P-001' });
    expect(evs[0].payload.data).toMatchObject({ username: 'P-001', l1: 'group A' });
    expect(JSON.stringify(evs[0].payload)).not.toContain(r.authToken);
  });

  it('stores the token encrypted with a SHA-256 lookup hash, never in plain text', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const r = (await post(admin, slug, { username: 'plain-check', password: 'correct horse' })).json();
    const rows = rowsOf<Record<string, string>>(await ctx.services().database.db.execute(sql`SELECT * FROM respondents WHERE id = ${r.userId}`));
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(r.authToken);
    expect(stored).not.toContain('correct horse');
    expect(rows[0].auth_token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a duplicate username (exact match), bad values, and unknown fields', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { allowedRedirectOrigins: ['https://ok.example'] });
    expect((await post(admin, slug, { username: 'dup' })).statusCode).toBe(201);
    const again = await post(admin, slug, { username: 'dup' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('RESPONDENT_EXISTS');
    expect((await post(admin, slug, { username: 'DUP' })).statusCode).toBe(201); // exact match: case matters
    for (const [payload, path] of [
      [{ username: '' }, '/body/username'],
      [{ username: 'x'.repeat(257) }, '/body/username'],
      [{ username: 'a', email: 'not-an-email' }, '/body/email'],
      [{ username: 'a', redirectUrl: 'javascript:alert(1)' }, '/body/redirectUrl'],
      [{ username: 'a', redirectUrl: 'https://elsewhere.example/x' }, '/body/redirectUrl'],
      [{ username: 'a', l3: 'x'.repeat(1001) }, '/body/l3'],
      [{ username: 'a', l11: 'x' }, '/body/l11'],
      [{ username: 'a', phone: 'call me' }, '/body/phone'],
      [{ username: 'a', password: 'short' }, '/body/password'],
      [{ username: 'a', customFields: { k: { nested: true } } }, '/body/customFields/k'],
    ] as const) {
      const res = await post(admin, slug, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.json().error.details.fields), JSON.stringify(payload)).toContain(path);
    }
    // A 256-character username of emoji is 256 characters.
    expect((await post(admin, slug, { username: '😀'.repeat(256) })).statusCode).toBe(201);
  });

  it('gets, patches and deletes by URL-encoded username; PATCH emits respondent.updated with the changed fields', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const username = 'a/b c?d#é';
    const created = (await post(admin, slug, { username, l2: 'old', customFields: { a: '1', b: '2' } })).json();
    const url = `${base(slug)}/${encodeURIComponent(username)}`;
    const got = await ctx.inject({ method: 'GET', url, headers: admin.headers });
    expect(got.statusCode).toBe(200);
    expect(got.json().userId).toBe(created.userId);

    const patched = await ctx.inject({ method: 'PATCH', url, headers: admin.headers, payload: { l2: 'new', l3: 'three', customFields: { a: null, c: '3' }, status: 'exited' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ l2: 'new', l3: 'three', customFields: { b: '2', c: '3' }, status: 'exited' });
    const upd = await events(slug, 'respondent.updated');
    expect(upd).toHaveLength(1);
    expect(upd[0].payload.data.changed).toEqual(expect.arrayContaining(['l2', 'l3', 'customFields', 'status']));

    // The same values again change nothing and emit nothing.
    await ctx.inject({ method: 'PATCH', url, headers: admin.headers, payload: { l2: 'new' } });
    expect(await events(slug, 'respondent.updated')).toHaveLength(1);

    // null clears a value: stored as null, not as an empty string.
    const cleared = await ctx.inject({ method: 'PATCH', url, headers: admin.headers, payload: { l3: null } });
    expect(cleared.json().l3).toBeNull();
    expect((await ctx.inject({ method: 'GET', url, headers: admin.headers })).json().l3).toBeNull();
    // JSON bodies are taken as sent: a number where a string belongs is an error, not coerced.
    const typed = await ctx.inject({ method: 'PATCH', url, headers: admin.headers, payload: { l4: 5 } });
    expect(typed.statusCode).toBe(400);

    expect((await ctx.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode).toBe(204);
    const gone = await ctx.inject({ method: 'GET', url, headers: admin.headers });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('RESPONDENT_NOT_FOUND');
  });

  it('lists with cursor pagination and filters by status, label and search', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    for (let i = 0; i < 7; i++) {
      await post(admin, slug, { username: `user-${i}`, name: i === 3 ? 'Zoë 50%_off' : `Name ${i}`, l1: i % 2 ? 'odd' : 'even' });
    }
    await ctx.inject({ method: 'PATCH', url: `${base(slug)}/user-5`, headers: admin.headers, payload: { status: 'completed' } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await ctx.inject({ method: 'GET', url: `${base(slug)}?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: admin.headers });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.items.map((r: { username: string }) => r.username));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-6']);

    const odd = (await ctx.inject({ method: 'GET', url: `${base(slug)}?l1=odd`, headers: admin.headers })).json();
    expect(odd.items.map((r: { username: string }) => r.username)).toEqual(['user-1', 'user-3', 'user-5']);
    const done = (await ctx.inject({ method: 'GET', url: `${base(slug)}?status=completed`, headers: admin.headers })).json();
    expect(done.items.map((r: { username: string }) => r.username)).toEqual(['user-5']);
    const search = (await ctx.inject({ method: 'GET', url: `${base(slug)}?search=${encodeURIComponent('50%_')}`, headers: admin.headers })).json();
    expect(search.items.map((r: { username: string }) => r.username)).toEqual(['user-3']);
    const none = (await ctx.inject({ method: 'GET', url: `${base(slug)}?search=%25`, headers: admin.headers })).json();
    expect(none.items.map((r: { username: string }) => r.username)).toEqual(['user-3']);
    const bad = await ctx.inject({ method: 'GET', url: `${base(slug)}?cursor=garbage`, headers: admin.headers });
    expect(bad.statusCode).toBe(400);
  });

  it('rotates the auth token: the old token and its sessions stop working at once', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const r = (await post(admin, slug, { username: 'rot' })).json();
    const signIn = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/auth`, payload: { token: r.authToken } });
    expect(signIn.statusCode).toBe(200);
    const access = signIn.json().accessToken;
    const rotated = await ctx.inject({ method: 'POST', url: `${base(slug)}/rot/auth-token`, headers: admin.headers });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().authToken).not.toBe(r.authToken);
    const old = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/auth`, payload: { token: r.authToken } });
    expect(old.statusCode).toBe(401);
    const oldLink = await ctx.inject({ method: 'GET', url: `/a/${r.authToken}` });
    expect(oldLink.statusCode).toBe(401);
    const fresh = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/auth`, payload: { token: rotated.json().authToken } });
    expect(fresh.statusCode).toBe(200);
    // The session made with the old token is dead.
    const session = await ctx.services().respondentSessions.current(
      { headers: { authorization: `Bearer ${access}` }, cookies: {}, method: 'GET' } as never, slug);
    expect(session).toBeNull();
  });

  it('enforces roles and account isolation: viewers read without tokens, another account sees 404', async () => {
    const owner = await ctx.newAdmin();
    const slug = await ctx.newSurvey(owner);
    await post(owner, slug, { username: 'iso' });
    const viewer = await ctx.newAdmin('viewer', owner.accountId);
    const list = await ctx.inject({ method: 'GET', url: base(slug), headers: viewer.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json().items[0].authToken).toBeUndefined();
    expect(list.json().items[0].authUrl).toBeUndefined();
    expect((await post(viewer, slug, { username: 'nope' })).statusCode).toBe(403);
    expect((await ctx.inject({ method: 'GET', url: `${base(slug)}/export.csv`, headers: viewer.headers })).statusCode).toBe(403);
    expect((await ctx.inject({ method: 'POST', url: `${base(slug)}/iso/auth-token`, headers: viewer.headers })).statusCode).toBe(403);

    const stranger = await ctx.newAdmin();
    for (const [method, url] of [['GET', base(slug)], ['GET', `${base(slug)}/iso`], ['DELETE', `${base(slug)}/iso`], ['GET', `${base(slug)}/export.csv`]] as const) {
      const res = await ctx.inject({ method, url, headers: stranger.headers });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('SURVEY_NOT_FOUND');
    }
    expect((await ctx.inject({ method: 'GET', url: base(slug) })).statusCode).toBe(401);
  });
});

describe('signing in with an auth token', () => {
  const ctx = setupApp();

  async function respondent(extra: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, settings);
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'u1', ...extra } });
    return { admin, slug, r: res.json() };
  }

  it('?auth= and /a/{token} set the session cookie and land on the survey page', async () => {
    const { slug, r } = await respondent();
    for (const url of [`/surveys/${slug}?auth=${r.authToken}`, `/a/${r.authToken}`]) {
      const res = await ctx.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(302);
      expect(res.headers.location).toBe(`/surveys/${slug}`);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/^sb_r\d+=/);
      expect(cookie).toContain('HttpOnly');
      const token = cookie.split(';')[0].split('=')[1];
      const session = await ctx.services().respondentSessions.current({ headers: {}, cookies: { [cookie.split('=')[0]]: token }, method: 'GET' } as never, slug);
      expect(session?.respondent.id).toBe(r.userId);
    }
    const page = await ctx.inject({ method: 'GET', url: `/surveys/${slug}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
  });

  it('an invalid token answers a clear 401 error page, not a redirect; the token never reaches the log', async () => {
    const { slug, r } = await respondent();
    for (const url of [`/surveys/${slug}?auth=not-a-real-token-at-all-xxxxxxxxxx`, '/a/not-a-real-token-at-all-xxxxxxxxxx', `/surveys/${slug}?auth=`]) {
      const res = await ctx.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('not valid');
      expect(res.headers.location).toBeUndefined();
    }
    // A token of another survey does not open this one.
    const other = await respondent();
    expect((await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${other.r.authToken}` })).statusCode).toBe(401);
    expect((await ctx.inject({ method: 'GET', url: `/surveys/no-such-survey?auth=${r.authToken}` })).statusCode).toBe(404);
    expect(ctx.logs.text()).not.toContain(r.authToken);
  });

  it('POST /auth answers an access token; POST /login checks the password and is rate-limited', async () => {
    const { slug, r } = await respondent({ password: 'respondent-pw' });
    const auth = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/auth`, payload: { token: r.authToken } });
    expect(auth.statusCode).toBe(200);
    expect(auth.json()).toMatchObject({ userId: r.userId, username: 'u1' });
    expect(typeof auth.json().accessToken).toBe('string');
    expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/auth`, payload: { token: 'x'.repeat(40) } })).json().error.code).toBe('INVALID_TOKEN');

    const ok = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/login`, payload: { username: 'u1', password: 'respondent-pw' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().userId).toBe(r.userId);
    const wrong = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/login`, payload: { username: 'u1', password: 'nope-nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
    const unknown = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/login`, payload: { username: 'nobody', password: 'nope-nope' } });
    expect(unknown.json().error.code).toBe('INVALID_CREDENTIALS');
    let limited = false;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/login`, payload: { username: 'u1', password: 'still-wrong' } });
      limited = res.statusCode === 429;
    }
    expect(limited).toBe(true);
  });

  it('auth URLs carry their hash when the survey requires signed entry links', async () => {
    const { admin, slug, r } = await respondent({}, { linkSigningSecret: 'link-secret-0123456789', requireSignedEntry: true });
    const { createHmac } = await import('node:crypto');
    const unsigned = `http://127.0.0.1:3000/surveys/${slug}?auth=${r.authToken}`;
    expect(r.authUrl).toBe(`${unsigned}&hash=${createHmac('sha256', 'link-secret-0123456789').update(unsigned).digest('base64url')}`);
    const shortUnsigned = `http://127.0.0.1:3000/a/${r.authToken}`;
    expect(r.shortAuthUrl).toBe(`${shortUnsigned}?hash=${createHmac('sha256', 'link-secret-0123456789').update(shortUnsigned).digest('base64url')}`);
    const csv = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/export.csv`, headers: admin.headers });
    expect(csv.body).toContain(r.authUrl);
    expect(csv.body).toContain(r.shortAuthUrl);
  });
});
