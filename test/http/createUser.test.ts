import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { sql } from 'drizzle-orm';
import { setupApp } from '../helpers/app.ts';
import { rowsOf } from '../../src/db/client.ts';

const SECRET = 'create-user-secret-0123456789';
const OTHER_SECRET = 'another-secret-abcdefghijklmnop';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function sign(claims: Record<string, unknown>, opts: { alg?: string; secret?: string; header?: Record<string, unknown> } = {}) {
  const alg = opts.alg ?? 'HS256';
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...opts.header }).sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

/** A JWT assembled by hand (any header, any signature algorithm name). */
function rawJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret = SECRET, hmac: string | null = 'sha256') {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = hmac ? createHmac(hmac, secret).update(input).digest('base64url') : '';
  return `${input}.${sig}`;
}

describe('create-user from a signed JWT', () => {
  const ctx = setupApp({ env: { CREATE_USER_RATE_LIMIT: '100000' } });

  async function survey(settings: Record<string, unknown> = {}) {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { allowUserGeneration: true, jwtSecret: SECRET, state: 'active', ...settings });
    return { admin, slug };
  }
  const api = (slug: string, token: string) => ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/create-user?params=${encodeURIComponent(token)}` });

  it('creates a respondent (v3 claims), answers Intake24\'s shape, and is idempotent for the same user', async () => {
    const { admin, slug } = await survey();
    const token = await sign({ user: 'ext-42', redirect: 'https://panel.example/back?id=ext-42', exp: now() + 300 });
    const res = await api(slug, token);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ username: 'ext-42', redirect: 'https://panel.example/back?id=ext-42' });
    expect(typeof body.userId).toBe('number');
    expect(body.authUrl).toBe(`http://127.0.0.1:3000/surveys/${slug}?auth=${body.authToken}`);
    const again = await api(slug, await sign({ user: 'ext-42' }));
    expect(again.json()).toMatchObject({ userId: body.userId, authToken: body.authToken, redirect: 'https://panel.example/back?id=ext-42' });
    const stored = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/ext-42`, headers: admin.headers })).json();
    expect(stored).toMatchObject({ createdVia: 'jwt', redirectUrl: 'https://panel.example/back?id=ext-42' });
  });

  it('accepts the v4 forms: POST {"token"}, claims username/redirectUrl/customFields as a list, HS512', async () => {
    const { admin, slug } = await survey();
    const token = await sign({ username: 'v4-user', redirectUrl: 'https://v4.example/r', name: 'Vee', customFields: [{ name: 'site', value: 'Leeds' }], l4: 'four' }, { alg: 'HS512' });
    const res = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/create-user`, payload: { token } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ username: 'v4-user', redirect: 'https://v4.example/r' });
    const stored = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/v4-user`, headers: admin.headers })).json();
    expect(stored).toMatchObject({ name: 'Vee', l4: 'four', customFields: { site: 'Leeds' } });
    // POST with ?params= works too.
    const viaQuery = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/create-user?params=${token}` });
    expect(viaQuery.json().userId).toBe(res.json().userId);
  });

  it('a later call updates present claims (a new redirect is stored and answered) and leaves absent ones; emits created once, then updated', async () => {
    const { admin, slug } = await survey();
    const first = (await api(slug, await sign({ user: 'u-upd', redirect: 'https://a.example/1', name: 'First', l1: 'one' }))).json();
    const second = (await api(slug, await sign({ user: 'u-upd', redirect: 'https://a.example/2' }))).json();
    expect(second).toMatchObject({ userId: first.userId, redirect: 'https://a.example/2' });
    const stored = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/u-upd`, headers: admin.headers })).json();
    expect(stored).toMatchObject({ redirectUrl: 'https://a.example/2', name: 'First', l1: 'one' });
    const types = rowsOf<{ type: string }>(await ctx.services().database.db.execute(
      sql`SELECT e.type FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${slug} ORDER BY e.seq`)).map((r) => r.type);
    expect(types).toEqual(['respondent.created', 'respondent.updated']);
    // The same claims again: no change, no event.
    await api(slug, await sign({ user: 'u-upd', redirect: 'https://a.example/2' }));
    const count = rowsOf<{ n: number }>(await ctx.services().database.db.execute(
      sql`SELECT count(*)::int AS n FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${slug}`))[0].n;
    expect(count).toBe(2);
  });

  it('50 concurrent first calls for one new user all answer 200 with one userId and one token, and one respondent.created', async () => {
    const { slug } = await survey();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => sign({ user: 'racer', redirect: 'https://race.example/done' })));
    const answers = await Promise.all(tokens.map((t) => api(slug, t)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(200));
    expect(new Set(answers.map((a) => a.json().userId)).size).toBe(1);
    expect(new Set(answers.map((a) => a.json().authToken)).size).toBe(1);
    const created = rowsOf<{ n: number }>(await ctx.services().database.db.execute(
      sql`SELECT count(*)::int AS n FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${slug} AND e.type = 'respondent.created'`))[0].n;
    expect(created).toBe(1);
  });

  it('the frontend form creates, signs in (cookie) and redirects to the survey page; failures show an error page saying why', async () => {
    const { slug } = await survey();
    const ok = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await sign({ user: 'browser-1' })}` });
    expect(ok.statusCode).toBe(302);
    expect(ok.headers.location).toBe(`/surveys/${slug}`);
    expect(String(ok.headers['set-cookie'])).toMatch(/^sb_r\d+=.+HttpOnly/);

    const expired = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await sign({ user: 'browser-2', exp: now() - 3600 })}` });
    expect(expired.statusCode).toBe(401);
    expect(expired.headers['content-type']).toContain('text/html');
    expect(expired.body).toContain('expired');
    expect(expired.headers.location).toBeUndefined();

    const garbage = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=garbage` });
    expect(garbage.statusCode).toBe(401);
    expect(garbage.body).toContain('well-formed');
  });

  it('a stored redirect is used at completion: it is the respondent\'s redirectUrl', async () => {
    const { slug } = await survey();
    const body = (await api(slug, await sign({ user: 'comp', redirect: 'https://third.example/complete?u=comp' }))).json();
    const row = await ctx.services().respondents.find((await ctx.services().surveys.getPublic(slug)).id, 'comp');
    expect(row?.redirectUrl).toBe('https://third.example/complete?u=comp');
    expect(body.redirect).toBe(row?.redirectUrl);
  });

  it('survey-level errors: unknown survey 404, generation disabled 403, no secret 403, closed 403', async () => {
    const token = await sign({ user: 'x' });
    const unknown = await api('no-such-survey-here', token);
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'SURVEY_NOT_FOUND']);
    const disabled = await survey({ allowUserGeneration: false });
    expect((await api(disabled.slug, token)).json().error.code).toBe('USER_GENERATION_DISABLED');
    const noSecret = await survey({ jwtSecret: null });
    const r = await api(noSecret.slug, token);
    expect([r.statusCode, r.json().error.code]).toEqual([403, 'USER_GENERATION_DISABLED']);
    const closed = await survey({ state: 'closed' });
    const c = await api(closed.slug, token);
    expect([c.statusCode, c.json().error.code]).toEqual([403, 'SURVEY_CLOSED']);
  });

  it('jwtMaxAgeSeconds requires a recent iat', async () => {
    const { slug } = await survey({ jwtMaxAgeSeconds: 60 });
    expect((await api(slug, await sign({ user: 'aged', iat: now() }))).statusCode).toBe(200);
    const old = await api(slug, await sign({ user: 'aged', iat: now() - 3600 }));
    expect([old.statusCode, old.json().error.code]).toEqual([401, 'TOKEN_EXPIRED']);
    const missing = await api(slug, await sign({ user: 'aged' }));
    expect([missing.statusCode, missing.json().error.code]).toEqual([400, 'INVALID_CLAIMS']);
    expect(missing.json().error.message).toContain('iat');
  });

  it('a jti is single-use per survey (until exp), but the same jti is fine in another survey', async () => {
    const a = await survey();
    const b = await survey();
    const token = await sign({ user: 'once', jti: 'jti-1', exp: now() + 600 });
    expect((await api(a.slug, token)).statusCode).toBe(200);
    const replay = await api(a.slug, token);
    expect([replay.statusCode, replay.json().error.code]).toEqual([401, 'TOKEN_REPLAYED']);
    const noExp = await sign({ user: 'once', jti: 'jti-2' });
    expect((await api(a.slug, noExp)).statusCode).toBe(200);
    expect((await api(a.slug, noExp)).json().error.code).toBe('TOKEN_REPLAYED');
    // Another survey with the same secret: the jti is its own.
    expect((await api(b.slug, token)).statusCode).toBe(200);
    // Concurrent replays: exactly one wins.
    const racing = await sign({ user: 'racing-jti', jti: 'jti-race', exp: now() + 600 });
    const results = await Promise.all(Array.from({ length: 10 }, () => api(a.slug, racing)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.json().error?.code === 'TOKEN_REPLAYED')).toHaveLength(9);
  });

  describe('rejects bad tokens (table)', async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    const hugeClaim = 'x'.repeat(9000);
    const good = { user: 'table-user', exp: now() + 600 };
    type Case = [name: string, make: (ctx2: { otherSlug: string }) => Promise<string>, status: number, code: string, extra?: Record<string, unknown>];
    const cases: Case[] = [
      ['alg none', async () => rawJwt({ alg: 'none', typ: 'JWT' }, good, SECRET, null), 401, 'INVALID_TOKEN'],
      ['alg none with a signature', async () => rawJwt({ alg: 'none' }, good), 401, 'INVALID_TOKEN'],
      ['alg NONE (case)', async () => rawJwt({ alg: 'NONE' }, good, SECRET, null), 401, 'INVALID_TOKEN'],
      ['HS384', async () => sign(good, { alg: 'HS384' }), 401, 'INVALID_TOKEN'],
      ['RS256', async () => new SignJWT(good).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey), 401, 'INVALID_TOKEN'],
      ['ES256', async () => new SignJWT(good).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey), 401, 'INVALID_TOKEN'],
      ['RS256 header over an HMAC signature (key confusion)', async () => rawJwt({ alg: 'RS256' }, good), 401, 'INVALID_TOKEN'],
      ['PS256 header', async () => rawJwt({ alg: 'PS256' }, good), 401, 'INVALID_TOKEN'],
      ['unknown alg', async () => rawJwt({ alg: 'HS1' }, good), 401, 'INVALID_TOKEN'],
      ['embedded jwk header', async () => rawJwt({ alg: 'HS256', jwk: await exportJWK(rsa.publicKey) }, good), 401, 'INVALID_TOKEN'],
      ['tampered header (alg swapped to HS512)', async () => {
        const t = await sign(good);
        return [b64({ alg: 'HS512', typ: 'JWT' }), ...t.split('.').slice(1)].join('.');
      }, 401, 'INVALID_TOKEN'],
      ['tampered payload', async () => {
        const [h, , s] = (await sign(good)).split('.');
        return [h, b64({ ...good, user: 'someone-else' }), s].join('.');
      }, 401, 'INVALID_TOKEN'],
      ['tampered signature', async () => {
        const t = await sign(good);
        const last = t.slice(-1) === 'A' ? 'B' : 'A';
        return t.slice(0, -2) + last + t.slice(-1);
      }, 401, 'INVALID_TOKEN'],
      ['signature removed', async () => (await sign(good)).split('.').slice(0, 2).join('.') + '.', 401, 'INVALID_TOKEN'],
      ['wrong secret', async () => sign(good, { secret: OTHER_SECRET }), 401, 'INVALID_TOKEN'],
      ['HS256 token of another survey (its own secret)', async () => sign(good, { secret: OTHER_SECRET }), 401, 'INVALID_TOKEN'],
      ['expired', async () => sign({ ...good, exp: now() - 3600 }), 401, 'TOKEN_EXPIRED'],
      ['not yet valid', async () => sign({ ...good, nbf: now() + 3600 }), 401, 'TOKEN_NOT_YET_VALID'],
      ['exp not a number', async () => sign({ ...good, exp: 'tomorrow' }), 400, 'INVALID_CLAIMS'],
      ['notification issuer (a webhook token replayed)', async () => sign({ ...good, iss: 'surveybridge' }), 401, 'INVALID_TOKEN'],
      ['missing user', async () => sign({ exp: now() + 600 }), 400, 'INVALID_CLAIMS', { claim: 'user' }],
      ['non-string user', async () => sign({ user: 12345 }), 400, 'INVALID_CLAIMS', { claim: 'user' }],
      ['empty user', async () => sign({ user: '' }), 400, 'INVALID_CLAIMS', { claim: 'user' }],
      ['257-character user', async () => sign({ user: 'u'.repeat(257) }), 400, 'INVALID_CLAIMS', { claim: 'user' }],
      ['user and username disagree', async () => sign({ user: 'a', username: 'b' }), 400, 'INVALID_CLAIMS', { claim: 'username' }],
      ['javascript: redirect', async () => sign({ user: 'r1', redirect: 'javascript:alert(document.cookie)' }), 400, 'INVALID_CLAIMS', { claim: 'redirect' }],
      ['data: redirectUrl', async () => sign({ user: 'r2', redirectUrl: 'data:text/html,<script>1</script>' }), 400, 'INVALID_CLAIMS', { claim: 'redirectUrl' }],
      ['redirect outside the allow-list', async () => sign({ user: 'r3', redirect: 'https://evil.example/phish' }), 400, 'INVALID_CLAIMS', { claim: 'redirect' }],
      ['label over 1000 characters', async () => sign({ user: 'r4', l2: 'x'.repeat(1001) }), 400, 'INVALID_CLAIMS', { claim: 'l2' }],
      ['customFields not strings', async () => sign({ user: 'r5', customFields: { a: { b: 1 } } }), 400, 'INVALID_CLAIMS', { claim: 'customFields.a' }],
      ['oversized token (over 8 KB)', async () => sign({ user: 'big', pad: hugeClaim }), 400, 'TOKEN_TOO_LARGE'],
      ['non-JWT garbage', async () => 'this is not a jwt', 401, 'INVALID_TOKEN'],
      ['two segments', async () => `${b64({ alg: 'HS256' })}.${b64(good)}`, 401, 'INVALID_TOKEN'],
      ['header not JSON', async () => `${b64('not json')}.${b64(good)}.abc`, 401, 'INVALID_TOKEN'],
      ['payload not an object', async () => rawJwt({ alg: 'HS256' }, [1, 2] as unknown as Record<string, unknown>), 401, 'INVALID_TOKEN'],
      ['empty string', async () => '', 401, 'INVALID_TOKEN'],
    ];

    for (const [name, make, status, code, extra] of cases) {
      it(name, async () => {
        const { slug } = await survey({ allowedRedirectOrigins: ['https://panel.example', 'https://a.example'] });
        const token = await make({ otherSlug: slug });
        const res = await api(slug, token);
        expect(res.statusCode, res.body).toBe(status);
        expect(res.json().error.code).toBe(code);
        if (extra?.claim) {
          expect(res.json().error.details.claim).toBe(extra.claim);
          expect(res.json().error.message).toContain(String(extra.claim));
        }
        // Nothing was created by a rejected token.
        const n = rowsOf<{ n: number }>(await ctx.services().database.db.execute(
          sql`SELECT count(*)::int AS n FROM respondents r JOIN surveys s ON s.id = r.survey_id WHERE s.slug = ${slug}`))[0].n;
        expect(n).toBe(0);
      });
    }

    it('a token signed for survey A is refused by survey B (different secrets)', async () => {
      const a = await survey({ jwtSecret: 'survey-a-secret-0123456789' });
      const b = await survey({ jwtSecret: 'survey-b-secret-0123456789' });
      const token = await sign({ user: 'cross' }, { secret: 'survey-a-secret-0123456789' });
      expect((await api(a.slug, token)).statusCode).toBe(200);
      const res = await api(b.slug, token);
      expect([res.statusCode, res.json().error.code]).toEqual([401, 'INVALID_TOKEN']);
    });

    it('a custom notification issuer is refused too', async () => {
      const { slug } = await survey({ notificationIssuer: 'my-platform' });
      const res = await api(slug, await sign({ user: 'n', iss: 'my-platform' }));
      expect(res.json().error.code).toBe('INVALID_TOKEN');
      expect((await api(slug, await sign({ user: 'n', iss: 'panel' }))).statusCode).toBe(200);
    });
  });
});

describe('create-user rate limit', () => {
  const ctx = setupApp({ env: { CREATE_USER_RATE_LIMIT: '5' } });
  it('answers 429 with Retry-After past the per-IP limit', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { allowUserGeneration: true, jwtSecret: SECRET });
    const token = await sign({ user: 'limited' });
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/create-user?params=${token}` })).statusCode);
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const last = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/create-user?params=${token}` });
    expect(last.statusCode).toBe(429);
    expect(last.json().error.code).toBe('RATE_LIMITED');
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
  });
});
