import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { records, respondents } from '../../src/db/schema/index.ts';
import { randomToken, sha256Hex } from '../../src/lib/crypto.ts';
import { verifyLink } from '../../src/redirects/signing.ts';

const SECRET = 'partner-shared-secret-0001';
const INBRAIN = ['surveyId', 'entrySurveyId', 'userId', 'mid', 'reward', 'rewardId'];

describe('redirects out', () => {
  const ctx = setupApp();

  async function surveyRow(admin: TestAdmin, slug: string) {
    return ctx.services().surveys.get(admin.accountId, slug);
  }

  /** A respondent inserted directly (the respondents domain is not needed for these tests). */
  async function newRespondent(admin: TestAdmin, slug: string, extra: Partial<typeof respondents.$inferInsert> = {}) {
    const survey = await surveyRow(admin, slug);
    const token = randomToken();
    const [row] = await ctx.services().database.db.insert(respondents).values({
      surveyId: survey.id, username: `user-${randomToken(6)}`, createdVia: 'admin', status: 'started',
      authTokenSealed: ctx.services().box.seal(token), authTokenHash: sha256Hex(token), ...extra,
    }).returning();
    const session = await ctx.services().respondentSessions.issue(row);
    return { row, survey, headers: { authorization: `Bearer ${session}` } };
  }

  async function addRecord(respondentId: number, surveyId: number, extra: Partial<typeof records.$inferInsert> = {}) {
    const [rec] = await ctx.services().database.db.insert(records).values({ surveyId, respondentId, definitionVersion: 0, ...extra }).returning();
    return rec;
  }

  const finish = (slug: string, headers: Record<string, string> = {}) => ctx.inject({ method: 'GET', url: `/surveys/${slug}/finish`, headers });

  describe('settings validation', () => {
    it('rejects an unknown placeholder with 400 naming it, and accepts known ones', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin);
      const bad = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { outcomeUrls: { completed: 'https://p.example/done?u={usernme}' } } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('UNKNOWN_PLACEHOLDER');
      expect(bad.json().error.message).toContain('{usernme}');
      expect(bad.json().error.details.fields[0].path).toBe('outcomeUrls/completed');
      const created = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: admin.headers, payload: { slug: `x${slug}`.slice(0, 60), name: 'x', followUpUrl: 'https://p.example/?m={entry:mid}' } });
      expect(created.statusCode).toBe(400);
      expect(created.json().error.message).toContain('{entry:mid}');
      const ok = await ctx.inject({
        method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers,
        payload: { entryParams: ['mid'], followUpUrl: 'https://p.example/next/[intake24_username_value]?m={entry:mid}', outcomeUrls: { disqualified: 'https://p.example/f?s={status}' } },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().followUpUrl).toBe('https://p.example/next/[intake24_username_value]?m={entry:mid}');
    });

    it('accepts only http(s) targets and applies allowedRedirectOrigins to every one', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin, { allowedRedirectOrigins: ['https://partner.example'] });
      const patch = (payload: object) => ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload });
      expect((await patch({ outcomeUrls: { completed: 'javascript:alert(1)' } })).statusCode).toBe(400);
      const elsewhere = await patch({ outcomeUrls: { exited: 'https://elsewhere.example/x' } });
      expect(elsewhere.statusCode).toBe(400);
      expect(elsewhere.json().error.code).toBe('REDIRECT_NOT_ALLOWED');
      expect((await patch({ followUpUrl: 'https://elsewhere.example/x' })).json().error.code).toBe('REDIRECT_NOT_ALLOWED');
      expect((await patch({ outcomeUrls: { exited: 'https://partner.example/x' } })).statusCode).toBe(200);
      // Narrowing the list under an existing target is refused too (no partial write).
      const narrowed = await patch({ allowedRedirectOrigins: ['https://other.example'] });
      expect(narrowed.statusCode).toBe(400);
      const after = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
      expect(after.json().allowedRedirectOrigins).toEqual(['https://partner.example']);
    });
  });

  describe('GET /surveys/{slug}/finish', () => {
    it('sends a signed completion to the outcome URL with the inBrain parameters, hash last', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin, {
        linkSigningSecret: SECRET, entryParams: ['mid'], redirectParams: INBRAIN,
        outcomeUrls: { completed: 'https://partner.example/success' }, outcomeRewards: { completed: { reward: 10 } },
      });
      const r = await newRespondent(admin, slug, { entryParams: { mid: 'MS4wSM8xLjUx' }, status: 'completed' });
      const { services } = { services: ctx.services() };
      // What the runtime does at submit: resolve inside its transaction, store reward and rewardId with the outcome.
      const rec = await addRecord(r.row.id, r.survey.id);
      const resolved = await services.database.db.transaction(async (tx) => {
        const out = await services.redirects.resolveRedirect({ survey: r.survey, respondent: r.row, outcome: 'completed', tx, record: rec });
        await tx.update(records).set({ outcome: 'completed', redirectUrl: out.url }).where(eq(records.id, rec.id));
        return out;
      });
      expect(resolved.reward).toBe('10');
      expect(resolved.rewardId).toMatch(/^[0-9a-f-]{36}$/);
      const [stored] = await services.database.db.select().from(records).where(eq(records.id, rec.id));
      expect(stored.rewardId).toBe(resolved.rewardId);
      expect(stored.reward).toBe('10');

      const res = await finish(slug, r.headers);
      expect(res.statusCode).toBe(302);
      expect(res.headers['cache-control']).toBe('no-store');
      const location = String(res.headers.location);
      expect(location).toBe(resolved.url);
      const url = new URL(location);
      expect(url.origin + url.pathname).toBe('https://partner.example/success');
      expect([...url.searchParams.keys()]).toEqual([...INBRAIN, 'hash']);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({ surveyId: slug, entrySurveyId: slug, userId: r.row.username, mid: 'MS4wSM8xLjUx', reward: '10', rewardId: resolved.rewardId });
      expect(verifyLink(location, SECRET)).toBe('valid');
      expect(location).not.toContain(SECRET);
    });

    it('computes the target from the record when none was stored, reusing its rewardId', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin, { linkSigningSecret: SECRET, redirectParams: ['userId', 'rewardId', 'status'], outcomeUrls: { quota_full: 'https://partner.example/full' } });
      const r = await newRespondent(admin, slug, { status: 'quota_full' });
      await addRecord(r.row.id, r.survey.id, { outcome: 'quota_full', statusCode: 15, reward: '1', rewardId: '1d16f66e-9b7a-44fa-840e-8ec8afb4d60e' });
      const res = await finish(slug, r.headers);
      expect(res.statusCode).toBe(302);
      const location = String(res.headers.location);
      expect(location.startsWith(`https://partner.example/full?userId=${r.row.username}&rewardId=1d16f66e-9b7a-44fa-840e-8ec8afb4d60e&status=15&hash=`)).toBe(true);
      expect(verifyLink(location, SECRET)).toBe('valid');
    });

    it('sends the respondent back to the survey while there is no outcome', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin, { outcomeUrls: { completed: 'https://partner.example/success' } });
      const r = await newRespondent(admin, slug);
      const before = await finish(slug, r.headers);
      expect(before.statusCode).toBe(302);
      expect(before.headers.location).toBe(`/surveys/${slug}`);
      await addRecord(r.row.id, r.survey.id);
      expect((await finish(slug, r.headers)).headers.location).toBe(`/surveys/${slug}`);
    });

    it('uses the respondent\'s own URL first for a completion, filled with its placeholders', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin, { outcomeUrls: { completed: 'https://partner.example/success' } });
      const r = await newRespondent(admin, slug, { redirectUrl: 'https://own.example/back?u=[intake24_username_value]&d={custom:dept}', customFields: { dept: 'R&D' }, status: 'completed' });
      await addRecord(r.row.id, r.survey.id, { outcome: 'completed' });
      const res = await finish(slug, r.headers);
      expect(res.headers.location).toBe(`https://own.example/back?u=${r.row.username}&d=R%26D`);
    });

    it('shows the built-in page when no target is configured', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin);
      const r = await newRespondent(admin, slug, { status: 'completed' });
      await addRecord(r.row.id, r.survey.id, { outcome: 'completed' });
      const res = await finish(slug, r.headers);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('Thank you');
    });

    it('answers 401 (HTML) without a session, 404 for an unknown survey, never 500', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin);
      const anon = await finish(slug);
      expect(anon.statusCode).toBe(401);
      expect(anon.headers['content-type']).toContain('text/html');
      expect((await finish(slug, { authorization: 'Bearer not-a-token' })).statusCode).toBe(401);
      expect((await finish(slug, { authorization: 'Basic x' })).statusCode).toBe(401);
      expect((await finish('no-such-survey-here')).statusCode).toBe(404);
      // A session of another survey does not count here.
      const other = await ctx.newSurvey(admin);
      const r = await newRespondent(admin, other, { status: 'completed' });
      expect((await finish(slug, r.headers)).statusCode).toBe(401);
    });
  });

  describe('POST /api/admin/surveys/{slug}/redirects/preview', () => {
    it('shows what a respondent would get, signed, for known and unknown usernames', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin, {
        linkSigningSecret: SECRET, redirectParams: ['surveyId', 'userId', 'reward', 'rewardId'],
        outcomeUrls: { completed: 'https://partner.example/success', disqualified: 'https://partner.example/failure' }, outcomeRewards: { completed: { reward: '2.5' } },
      });
      const r = await newRespondent(admin, slug);
      const preview = (payload: object, headers = admin.headers) => ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/redirects/preview`, headers, payload });
      const known = await preview({ outcome: 'completed', username: r.row.username });
      expect(known.statusCode).toBe(200);
      const body = known.json();
      expect(body).toMatchObject({ target: 'outcomeUrl', statusCode: null, reward: '2.5', respondentFound: true });
      expect(new URL(body.url).searchParams.get('rewardId')).toBe(body.rewardId);
      expect(verifyLink(body.url, SECRET)).toBe('valid');
      const unknown = (await preview({ outcome: 'disqualified', username: 'someone & else' })).json();
      expect(unknown).toMatchObject({ target: 'outcomeUrl', statusCode: 13, reward: null, rewardId: null, respondentFound: false });
      expect(unknown.url.startsWith(`https://partner.example/failure?surveyId=${slug}&userId=someone%20%26%20else&status=13&hash=`)).toBe(true);
      expect(JSON.stringify(body)).not.toContain(SECRET);
    });

    it('needs the admin role, validates input and hides other accounts\' surveys', async () => {
      const admin = await ctx.newAdmin();
      const slug = await ctx.newSurvey(admin);
      const url = `/api/admin/surveys/${slug}/redirects/preview`;
      const viewer = await ctx.newAdmin('viewer', admin.accountId);
      expect((await ctx.inject({ method: 'POST', url, headers: viewer.headers, payload: { outcome: 'completed', username: 'u' } })).statusCode).toBe(403);
      expect((await ctx.inject({ method: 'POST', url, payload: { outcome: 'completed', username: 'u' } })).statusCode).toBe(401);
      const bad = await ctx.inject({ method: 'POST', url, headers: admin.headers, payload: { outcome: 'finished', username: 'u' } });
      expect(bad.statusCode).toBe(400);
      expect((await ctx.inject({ method: 'POST', url, headers: admin.headers, payload: { outcome: 'completed', username: '' } })).statusCode).toBe(400);
      const stranger = await ctx.newAdmin();
      const hidden = await ctx.inject({ method: 'POST', url, headers: stranger.headers, payload: { outcome: 'completed', username: 'u' } });
      expect(hidden.statusCode).toBe(404);
      expect(hidden.json().error.code).toBe('SURVEY_NOT_FOUND');
      const builtin = await ctx.inject({ method: 'POST', url, headers: admin.headers, payload: { outcome: 'exited', username: 'u' } });
      expect(builtin.json()).toMatchObject({ url: null, target: 'builtin', statusCode: 13 });
    });
  });
});
