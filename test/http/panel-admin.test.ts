import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { setupApp } from '../helpers/app.ts';
import { respondents } from '../../src/db/schema/index.ts';
import { activeSurvey, eventsOf, newRespondent, createUserJwt } from './runtimeFixtures.ts';

const FAILURE = 'https://partner.example/failure';
const JWT_SECRET = 'create-user-secret-0000000002';

describe('panel mode: blocklist, test respondents, rewards export', () => {
  const ctx = setupApp();
  const jwt = (claims: Record<string, unknown>) => createUserJwt(JWT_SECRET, claims);

  it('manages the blocklist and refuses blocked identifiers with status 9, writing nothing', async () => {
    const admin = await ctx.newAdmin();
    const other = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, undefined, {
      outcomeUrls: { disqualified: FAILURE }, allowUserGeneration: true, jwtSecret: JWT_SECRET, redirectParams: ['surveyId', 'status'],
    });
    const r = await newRespondent(ctx, slug, { username: 'bad-actor' });
    const add = await ctx.inject({ method: 'POST', url: '/api/admin/blocklist', headers: admin.headers, payload: { identifier: 'bad-actor', reason: 'fraud' } });
    expect(add.statusCode, add.body).toBe(201);
    expect(add.json()).toMatchObject({ identifier: 'bad-actor', reason: 'fraud' });
    const again = await ctx.inject({ method: 'POST', url: '/api/admin/blocklist', headers: admin.headers, payload: { identifier: 'bad-actor' } });
    expect(again.statusCode).toBe(200);
    await ctx.inject({ method: 'POST', url: '/api/admin/blocklist', headers: admin.headers, payload: { identifier: 'jwt-bad' } });
    const list = await ctx.inject({ method: 'GET', url: '/api/admin/blocklist', headers: admin.headers });
    expect(list.json().items.map((i: { identifier: string }) => i.identifier)).toEqual(['bad-actor', 'jwt-bad']);
    expect((await ctx.inject({ method: 'GET', url: '/api/admin/blocklist', headers: other.headers })).json().items).toEqual([]);
    expect((await ctx.inject({ method: 'POST', url: '/api/admin/blocklist', headers: admin.headers, payload: { identifier: '' } })).statusCode).toBe(400);

    const refused = await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    expect(refused.statusCode).toBe(302);
    expect(String(refused.headers.location)).toBe(`${FAILURE}?status=9`);
    expect(refused.headers['set-cookie']).toBeUndefined();
    const viaJwt = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'jwt-bad' })}` });
    expect(String(viaJwt.headers.location)).toBe(`${FAILURE}?status=9`);
    const rows = await ctx.services().database.db.select().from(respondents).where(eq(respondents.surveyId, survey.id));
    expect(rows.map((x) => x.username)).toEqual(['bad-actor']);
    expect(rows[0].entrySurveyId).toBeNull();

    expect((await ctx.inject({ method: 'DELETE', url: '/api/admin/blocklist/bad-actor', headers: admin.headers })).statusCode).toBe(204);
    expect((await ctx.inject({ method: 'DELETE', url: '/api/admin/blocklist/bad-actor', headers: admin.headers })).statusCode).toBe(404);
    expect((await ctx.inject({ method: 'GET', url: `/a/${r.token}` })).headers.location).toBe(`/surveys/${slug}`);
  });

  it('creates test respondents through the admin API and the JWT claim; their events say test: true', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, undefined, { allowUserGeneration: true, jwtSecret: JWT_SECRET });
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'tester', test: true } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().test).toBe(true);
    const plain = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'plain' } });
    expect(plain.json().test).toBe(false);
    const created = (await eventsOf(ctx, survey.id)).filter((e) => e.type === 'respondent.created');
    expect(created.map((e) => (e.payload as { test?: boolean }).test === true)).toEqual([true, false]);
    // Dashboards count real respondents only: the list filters on test.
    const list = async (q: string) => (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents?${q}`, headers: admin.headers })).json().items.map((r: { username: string }) => r.username);
    expect(await list('test=false')).toEqual(['plain']);
    expect(await list('test=true')).toEqual(['tester']);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents?test=maybe`, headers: admin.headers })).statusCode).toBe(400);

    // JWT claim test: true, even into a closed survey; without it a closed survey refuses.
    await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { state: 'closed' } });
    const ok = await ctx.inject({ method: 'GET', url: `/surveys/${slug}?createUser=${await jwt({ username: 'jwt-tester', test: true })}` });
    expect(ok.statusCode, ok.body).toBe(302);
    expect(ok.headers.location).toBe(`/surveys/${slug}`);
    const [row] = await ctx.services().database.db.select().from(respondents).where(eq(respondents.username, 'jwt-tester'));
    expect(row.test).toBe(true);
    const api = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/create-user`, payload: { token: await jwt({ username: 'jwt-plain' }) } });
    expect(api.statusCode).toBe(403);
    expect(api.json().error).toMatchObject({ code: 'SURVEY_CLOSED', details: { status: 6 } });
    // A test respondent completes the closed survey; the records list tells real from test.
    const tester = await ctx.services().respondents.find(survey.id, 'jwt-tester');
    const bearer = { authorization: `Bearer ${await ctx.services().respondentSessions.issue(tester!)}` };
    const saved = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: bearer, payload: { answers: { name: 'T', age: 40 } } });
    expect(saved.statusCode, saved.body).toBe(200);
    const sub = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: bearer, payload: {} });
    expect(sub.statusCode, sub.body).toBe(200);
    const recs = async (q: string) => (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?outcome=completed&${q}`, headers: admin.headers })).json().items.length;
    expect([await recs('test=true'), await recs('test=false')]).toEqual([1, 0]);
  });

  it('reads the reserved CSV column test (not a custom field) and marks those respondents and their events', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const csv = ['username,test,Cohort', 'c1,true,A', 'c2,,B', 'c3,no,C'].join('\n');
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents/import?wait=true`, headers: { ...admin.headers, 'content-type': 'text/csv' }, payload: csv });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().state).toBe('succeeded');
    expect(res.json().result.customFields).toEqual(['Cohort']);
    const rows = await ctx.services().database.db.select().from(respondents).where(eq(respondents.surveyId, survey.id));
    expect(Object.fromEntries(rows.map((r) => [r.username, r.test]))).toEqual({ c1: true, c2: false, c3: false });
    expect(rows.every((r) => !('test' in r.customFields))).toBe(true);
    const created = (await eventsOf(ctx, survey.id)).filter((e) => e.type === 'respondent.created');
    expect(created.filter((e) => (e.payload as { test?: boolean }).test === true)).toHaveLength(1);
    const bad = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents/import?wait=true`, headers: { ...admin.headers, 'content-type': 'text/csv' }, payload: 'username,test\nc9,maybe' });
    expect(bad.json().state).toBe('failed');
  });

  it('exports the rewards given on redirects, formula-guarded', async () => {
    const admin = await ctx.newAdmin();
    const def = { questions: [{ id: 'q', type: 'text', label: 'Q' }] };
    const { slug } = await activeSurvey(ctx, admin, def, {
      outcomeUrls: { completed: 'https://partner.example/ok' }, redirectParams: ['reward', 'rewardId', 'status'],
      // A reward given as a string is kept exactly as written ("0.50", not 0.5).
      outcomeRewards: { completed: { reward: '0.50' } },
    });
    const a = await newRespondent(ctx, slug, { username: '=cmd' });
    const b = await newRespondent(ctx, slug);
    const sub = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: a.headers, payload: {} });
    expect(sub.statusCode, sub.body).toBe(200);
    const url = new URL(sub.json().redirectUrl);
    expect(url.searchParams.get('reward')).toBe('0.50');
    const csv = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/rewards.csv`, headers: admin.headers });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split(/\r?\n/);
    expect(lines[0]).toBe('record_id,user_id,username,outcome,status,reward,reward_id,test,submitted_at,attempt,entry_survey');
    expect(lines).toHaveLength(2); // b has no outcome
    const cells = lines[1].split(',');
    expect(cells[1]).toBe(String(a.respondent.id));
    expect(cells[2]).toBe("'=cmd");
    expect(cells[3]).toBe('completed');
    expect(cells[5]).toBe(url.searchParams.get('reward'));
    expect(cells[6]).toBe(url.searchParams.get('rewardId'));
    expect(cells.slice(9)).toEqual(['1', slug]);
    expect(b.respondent.id).toBeGreaterThan(0);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/rewards.csv` })).statusCode).toBe(401);

    // A reconciliation period and rewarded-only: an exit (no reward) is listed, unless rewarded=true.
    const c = await newRespondent(ctx, slug);
    expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/exit`, headers: c.headers, payload: {} })).statusCode).toBe(200);
    const rowsOf = async (q: string) => {
      const res = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/rewards.csv?${q}`, headers: admin.headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.body.trim().split(/\r?\n/).slice(1).map((l) => l.split(',')[3]);
    };
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    expect(await rowsOf(`since=${hourAgo}`)).toEqual(['completed', 'exited']);
    expect(await rowsOf(`since=${hourAgo}&rewarded=true`)).toEqual(['completed']);
    expect(await rowsOf(`since=${inAnHour}`)).toEqual([]);
    expect(await rowsOf(`until=${hourAgo}`)).toEqual([]);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/rewards.csv?since=yesterday`, headers: admin.headers })).statusCode).toBe(400);
  });
});
