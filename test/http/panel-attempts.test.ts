import { describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { setupApp } from '../helpers/app.ts';
import { records, respondents } from '../../src/db/schema/index.ts';
import { activeSurvey, eventsOf, newRespondent, createUserJwt } from './runtimeFixtures.ts';

const FAILURE = 'https://partner.example/failure';
const OK = 'https://partner.example/ok';
const JWT_SECRET = 'create-user-secret-0000000001';
const DEF = { questions: [{ id: 'q', type: 'text', label: 'Q' }], screening: [{ when: { question: 'q', equals: 'no' }, outcome: 'disqualified' }] };

describe('panel mode: attempts, partial rewards, test termination', () => {
  const ctx = setupApp();
  const jwt = (claims: Record<string, unknown>) => createUserJwt(JWT_SECRET, claims);
  const api = (slug: string, path: string) => `/api/surveys/${slug}/session${path}`;
  const recordsOf = (respondentId: number) =>
    ctx.services().database.db.select().from(records).where(eq(records.respondentId, respondentId)).orderBy(asc(records.attempt));

  it('starts a new record per attempt with maxAttemptsPerRespondent > 1, and refuses entry after the N-th with status 10', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, DEF, { outcomeUrls: { disqualified: FAILURE }, maxAttemptsPerRespondent: 2 });
    const r = await newRespondent(ctx, slug);
    expect((await ctx.inject({ method: 'PUT', url: api(slug, '/answers'), headers: r.headers, payload: { answers: { q: 'one' } } })).statusCode).toBe(200);
    expect((await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} })).statusCode).toBe(200);
    // Within one attempt the runtime still answers 409.
    expect((await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} })).statusCode).toBe(409);

    const again = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}` });
    expect(again.statusCode).toBe(302);
    expect(again.headers.location).toBe(`/surveys/${slug}`);
    // The new attempt is announced, numbered; entering again mid-attempt announces nothing.
    await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    const started = (await eventsOf(ctx, survey.id)).filter((e) => e.type === 'session.started');
    expect(started.map((e) => e.data.attempt)).toEqual([2]);
    const session = await ctx.inject({ method: 'GET', url: api(slug, ''), headers: r.headers });
    expect(session.statusCode, session.body).toBe(200);
    expect(session.json()).toMatchObject({ state: 'not_started', answers: {}, recordId: null });
    const save = await ctx.inject({ method: 'PUT', url: api(slug, '/answers'), headers: r.headers, payload: { answers: { q: 'two' } } });
    expect(save.statusCode, save.body).toBe(200);
    const during = await ctx.inject({ method: 'GET', url: api(slug, ''), headers: r.headers });
    expect(during.json()).toMatchObject({ state: 'in_progress', answers: { q: 'two' }, recordId: save.json().recordId });
    expect((await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} })).statusCode).toBe(200);
    expect((await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} })).statusCode).toBe(409);

    const rows = await recordsOf(r.respondent.id);
    expect(rows.map((x) => [x.attempt, x.outcome, (x.answers as { q: string }).q])).toEqual([[1, 'completed', 'one'], [2, 'completed', 'two']]);
    const outcomes = (await eventsOf(ctx, survey.id)).filter((e) => e.type === 'submission.completed');
    expect(outcomes.map((e) => e.data.attempt)).toEqual([1, 2]);

    const third = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}` });
    expect(String(third.headers.location)).toBe(`${FAILURE}?status=10`);
    expect(third.headers['set-cookie']).toBeUndefined();
    expect(String((await ctx.inject({ method: 'GET', url: `/a/${r.token}` })).headers.location)).toBe(`${FAILURE}?status=10`);
    expect(await recordsOf(r.respondent.id)).toHaveLength(2);
    // Even with the status set back by hand, the runtime starts no attempt beyond the N-th.
    await ctx.services().database.db.update(respondents).set({ status: 'started' }).where(eq(respondents.id, r.respondent.id));
    expect((await ctx.inject({ method: 'PUT', url: api(slug, '/answers'), headers: r.headers, payload: { answers: { q: 'three' } } })).statusCode).toBe(409);
    expect(await recordsOf(r.respondent.id)).toHaveLength(2);
  });

  it('counts attempts for ?createUser= too, and shows a page with status 10 when there is no failure URL', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, DEF, { maxAttemptsPerRespondent: 2, allowUserGeneration: true, jwtSecret: JWT_SECRET });
    const enter = async () => ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'multi-1' })}` });
    for (let i = 0; i < 2; i++) {
      const res = await enter();
      expect(res.headers.location).toBe(`/surveys/${slug}`);
      const who = await ctx.services().respondents.find(survey.id, 'multi-1');
      expect(who).toBeTruthy();
      const headers = { authorization: `Bearer ${await ctx.services().respondentSessions.issue(who!)}` };
      const exit = await ctx.inject({ method: 'POST', url: api(slug, '/exit'), headers, payload: {} });
      expect(exit.statusCode, exit.body).toBe(200);
    }
    const who = await ctx.services().respondents.find(survey.id, 'multi-1');
    expect((await recordsOf(who!.id)).map((x) => x.attempt)).toEqual([1, 2]);
    const refused = await enter();
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('status 10');
  });

  it('keeps status 7 with the default of one attempt', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, DEF, { outcomeUrls: { disqualified: FAILURE } });
    const r = await newRespondent(ctx, slug);
    expect((await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} })).statusCode).toBe(200);
    expect(String((await ctx.inject({ method: 'GET', url: `/surveys/${slug}?auth=${r.token}` })).headers.location)).toBe(`${FAILURE}?status=7`);
    expect(await recordsOf(r.respondent.id)).toHaveLength(1);
  });

  it('rejects an invalid maxAttemptsPerRespondent', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, DEF);
    for (const v of [0, 1.5, 'x', -1]) {
      const res = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { maxAttemptsPerRespondent: v } });
      expect(res.statusCode, String(v)).toBe(400);
    }
  });

  it('pays partial rewards keyed by status code when the outcome has none: redirect, record and rewards.csv', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, DEF, {
      outcomeUrls: { completed: OK, disqualified: FAILURE }, redirectParams: ['reward', 'rewardId', 'status'],
      outcomeRewards: { completed: { reward: 1.5 }, '13': { reward: 0.1 } },
    });
    const r = await newRespondent(ctx, slug);
    await ctx.inject({ method: 'PUT', url: api(slug, '/answers'), headers: r.headers, payload: { answers: { q: 'no' } } });
    const sub = await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} });
    expect(sub.statusCode, sub.body).toBe(200);
    const url = new URL(sub.json().redirectUrl);
    expect(url.origin + url.pathname).toBe(FAILURE);
    expect(url.searchParams.get('status')).toBe('13');
    expect(url.searchParams.get('reward')).toBe('0.1');
    const rewardId = url.searchParams.get('rewardId');
    expect(rewardId).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = await recordsOf(r.respondent.id);
    expect(String(row.reward)).toBe('0.1');
    expect(row.rewardId).toBe(rewardId);
    const csv = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/rewards.csv`, headers: admin.headers });
    const cells = csv.body.trim().split(/\r?\n/)[1].split(',');
    expect([cells[3], cells[4], cells[5], cells[6]]).toEqual(['disqualified', '13', '0.1', rewardId]);

    // An exit ends with status 13 as well (no `exited` entry), so it is paid the partial reward.
    const exited = await newRespondent(ctx, slug);
    const ex = await ctx.inject({ method: 'POST', url: api(slug, '/exit'), headers: exited.headers, payload: {} });
    expect(ex.statusCode, ex.body).toBe(200);
    expect(new URL(ex.json().redirectUrl ?? 'https://x.example/').searchParams.get('reward')).toBe('0.1');
  });

  it('terminates test respondents with status 18 when terminateTestRespondents is set', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, DEF, { outcomeUrls: { disqualified: FAILURE }, terminateTestRespondents: true });
    const t = await newRespondent(ctx, slug, { test: true });
    const sub = await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: t.headers, payload: {} });
    expect(sub.statusCode, sub.body).toBe(200);
    expect(sub.json()).toMatchObject({ outcome: 'disqualified', status: 18 });
    expect(String(sub.json().redirectUrl)).toBe(`${FAILURE}?status=18`);
    const [row] = await recordsOf(t.respondent.id);
    expect([row.outcome, row.statusCode, row.countsTowardQuota]).toEqual(['disqualified', 18, false]);

    // Real respondents are not affected, nor test respondents without the setting.
    const r = await newRespondent(ctx, slug);
    expect((await ctx.inject({ method: 'POST', url: api(slug, '/submit'), headers: r.headers, payload: {} })).json().outcome).toBe('completed');
    const other = await activeSurvey(ctx, admin, DEF);
    const t2 = await newRespondent(ctx, other.slug, { test: true });
    expect((await ctx.inject({ method: 'POST', url: api(other.slug, '/submit'), headers: t2.headers, payload: {} })).json().outcome).toBe('completed');
  });
});
