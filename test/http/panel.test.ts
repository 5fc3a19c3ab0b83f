import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { setupApp } from '../helpers/app.ts';
import { respondents, records } from '../../src/db/schema/index.ts';
import { STATUS_CATALOGUE, outcomeStatusCode, statusCode } from '../../src/redirects/statusCodes.ts';
import { activeSurvey, newRespondent, createUserJwt } from './runtimeFixtures.ts';

const FAILURE = 'https://partner.example/failure';
const JWT_SECRET = 'create-user-secret-0000000001';

describe('panel mode: termination codes and entry refusals', () => {
  const ctx = setupApp();
  const setState = (slug: string, admin: { headers: Record<string, string> }, state: string) =>
    ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { state } });
  const jwt = (claims: Record<string, unknown>) => createUserJwt(JWT_SECRET, claims);

  it('has one catalogue of inBrain codes, overridable per survey', () => {
    expect(STATUS_CATALOGUE.surveyClosed.code).toBe(6);
    expect(STATUS_CATALOGUE.noReplacement.code).toBe(19);
    expect(statusCode({}, 'banned')).toBe(9);
    expect(statusCode({ statusCodes: { banned: 90 } }, 'banned')).toBe(90);
    expect(outcomeStatusCode({}, 'quota_full')).toBe(15);
    expect(outcomeStatusCode({}, 'completed')).toBeNull();
    expect(outcomeStatusCode({ statusCodes: { quotaFull: 51 } }, 'quota_full')).toBe(51);
    expect(outcomeStatusCode({ statusCodes: { quota_full: 52, quotaFull: 51 } }, 'quota_full')).toBe(52);
  });

  it('sends an auth link of a closed survey to the failure URL with status 6, writing nothing; test respondents get in', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, undefined, { outcomeUrls: { disqualified: FAILURE } });
    const r = await newRespondent(ctx, slug);
    const t = await newRespondent(ctx, slug, { test: true });
    expect((await setState(slug, admin, 'closed')).statusCode).toBe(200);
    const res = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}` });
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toBe(`${FAILURE}?status=6`);
    expect(res.headers['set-cookie']).toBeUndefined();
    const short = await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    expect(String(short.headers.location)).toBe(`${FAILURE}?status=6`);

    const tester = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${t.token}` });
    expect(tester.statusCode).toBe(302);
    expect(tester.headers.location).toBe(`/surveys/${slug}`);
    // A test respondent may answer and submit in a closed survey, and never counts.
    const save = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: t.headers, payload: { answers: { name: 'T', age: 40 } } });
    expect(save.statusCode, save.body).toBe(200);
  });

  it('shows a page with the status when the survey has no failure URL, and honours statusCodes overrides', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    await setState(slug, admin, 'closed');
    const res = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}` });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('status 6');

    const other = await activeSurvey(ctx, admin, undefined, { outcomeUrls: { disqualified: FAILURE }, statusCodes: { surveyClosed: 60 } });
    const r2 = await newRespondent(ctx, other.slug);
    await setState(other.slug, admin, 'closed');
    const res2 = await ctx.inject({ method: 'GET', url: `/a/${r2.token}` });
    expect(String(res2.headers.location)).toBe(`${FAILURE}?status=60`);
  });

  it('refuses entry with status 11 once the completions limit is reached; test respondents still get in', async () => {
    const admin = await ctx.newAdmin();
    const def = { questions: [{ id: 'q', type: 'text', label: 'Q' }], quota: { maxCompletes: 1 } };
    const { slug, survey } = await activeSurvey(ctx, admin, def, { outcomeUrls: { disqualified: FAILURE } });
    const first = await newRespondent(ctx, slug);
    const second = await newRespondent(ctx, slug);
    const tester = await newRespondent(ctx, slug, { test: true });
    expect((await ctx.inject({ method: 'GET', url: `/a/${second.token}` })).statusCode).toBe(302);
    const done = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: first.headers, payload: {} });
    expect(done.json().outcome, done.body).toBe('completed');
    const before = await ctx.services().database.db.select().from(records).where(eq(records.surveyId, survey.id));
    const refused = await ctx.inject({ method: 'GET', url: `/a/${second.token}` });
    expect(refused.statusCode).toBe(302);
    expect(String(refused.headers.location)).toBe(`${FAILURE}?status=11`);
    const after = await ctx.services().database.db.select().from(records).where(eq(records.surveyId, survey.id));
    expect(after.length).toBe(before.length);
    const t = await ctx.inject({ method: 'GET', url: `/a/${tester.token}` });
    expect(t.headers.location).toBe(`/surveys/${slug}`);
  });

  it('applies to ?createUser= too: closed → 6 unless the verified JWT says test: true', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, undefined, {
      outcomeUrls: { disqualified: FAILURE }, allowUserGeneration: true, jwtSecret: JWT_SECRET,
    });
    await setState(slug, admin, 'closed');
    const res = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'panel-1' })}` });
    expect(String(res.headers.location)).toBe(`${FAILURE}?status=6`);
    const none = await ctx.services().database.db.select().from(respondents).where(eq(respondents.surveyId, survey.id));
    expect(none).toHaveLength(0);
  });

  it('sends a create-user link of a respondent who already has an outcome to the failure URL with status 7, writing nothing', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, undefined, {
      outcomeUrls: { disqualified: FAILURE }, allowUserGeneration: true, jwtSecret: JWT_SECRET,
    });
    const first = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'panel-7' })}` });
    expect(first.headers.location).toBe(`/surveys/${slug}`);
    await ctx.services().database.db.update(respondents).set({ status: 'completed' }).where(eq(respondents.surveyId, survey.id));
    const again = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'panel-7', name: 'Changed' })}` });
    expect(String(again.headers.location)).toBe(`${FAILURE}?status=7`);
    const [row] = await ctx.services().database.db.select().from(respondents).where(eq(respondents.surveyId, survey.id));
    expect(row.name).toBeNull();
  });

  it('screens at entry on entry parameters and labels: the rule\'s status, else 19, writing nothing', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, undefined, {
      outcomeUrls: { disqualified: FAILURE }, entryParams: ['country'], allowUserGeneration: true, jwtSecret: JWT_SECRET,
      entryScreening: [{ when: { param: 'country' }, in: ['FR', 'DE'] }, { when: { label: 'l1' }, equals: 'minor', status: 14 }],
    });
    const r = await newRespondent(ctx, slug);
    const minor = await newRespondent(ctx, slug, { l1: 'minor' });
    const fr = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}&country=FR` });
    expect(String(fr.headers.location)).toBe(`${FAILURE}?status=19`);
    const uk = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}&country=UK` });
    expect(uk.headers.location).toBe(`/surveys/${slug}`);
    expect((await ctx.inject({ method: 'GET', url: `/a/${minor.token}` })).headers.location).toBe(`${FAILURE}?status=14`);
    const viaJwt = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'de-1' })}&country=DE` });
    expect(String(viaJwt.headers.location)).toBe(`${FAILURE}?status=19`);
    const rows = await ctx.services().database.db.select().from(respondents).where(eq(respondents.surveyId, survey.id));
    expect(rows.map((x) => x.username).sort()).toEqual([minor.respondent.username, r.respondent.username].sort());
    const bad = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { entryScreening: [{ when: { label: 'l11' }, equals: 'x' }] } });
    expect(bad.statusCode).toBe(400);
  });

  it('sends quota-like refusals (11, and entry rules with outcome quota_full) to outcomeUrls.quota_full when there is one', async () => {
    const admin = await ctx.newAdmin();
    const QUOTA = 'https://partner.example/quota';
    const def = { questions: [{ id: 'q', type: 'text', label: 'Q' }], quota: { maxCompletes: 1 } };
    const { slug } = await activeSurvey(ctx, admin, def, {
      outcomeUrls: { disqualified: FAILURE, quota_full: QUOTA }, entryParams: ['country'],
      entryScreening: [{ when: { param: 'country' }, equals: 'FR', outcome: 'quota_full', status: 40 }, { when: { param: 'country' }, equals: 'DE' }],
    });
    const r = await newRespondent(ctx, slug);
    expect(String((await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}&country=FR` })).headers.location)).toBe(`${QUOTA}?status=40`);
    expect(String((await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}&country=DE` })).headers.location)).toBe(`${FAILURE}?status=19`);
    const filler = await newRespondent(ctx, slug);
    expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: filler.headers, payload: {} })).json().outcome).toBe('completed');
    expect(String((await ctx.inject({ method: 'GET', url: `/a/${r.token}` })).headers.location)).toBe(`${QUOTA}?status=11`);
  });
});
