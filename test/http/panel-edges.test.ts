/**
 * Panel mode's edges: who may never be moved into a replacement (members who have used their
 * attempt, banned members), what a banned member's redirect may carry, events of moved members
 * from bulk paths, and the replacement's own entry requirements.
 */
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { respondents } from '../../src/db/schema/index.ts';
import { activeSurvey, eventsOf, newRespondent, createUserJwt, patchSurvey } from './runtimeFixtures.ts';

const FAILURE = 'https://partner.example/failure';
const JWT_SECRET = 'create-user-secret-0000000003';
const DEF = { questions: [{ id: 'q', type: 'text', label: 'Q' }] };

describe('panel mode: edges of entry rules and replacements', () => {
  const ctx = setupApp();
  const db = () => ctx.services().database.db;
  const patch = (admin: TestAdmin, slug: string, payload: Record<string, unknown>) => patchSurvey(ctx, admin, slug, payload);
  const jwt = (claims: Record<string, unknown>) => createUserJwt(JWT_SECRET, claims);
  const rowOf = async (surveyId: number, username: string) =>
    (await db().select().from(respondents).where(and(eq(respondents.surveyId, surveyId), eq(respondents.username, username))))[0];
  const submit = async (slug: string, headers: Record<string, string>) =>
    (await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers, payload: {} })).json();
  /** Entry survey A (with `extra`) whose replacement is B (with `replacementExtra`). */
  async function pair(admin: TestAdmin, extra: Record<string, unknown> = {}, replacementExtra: Record<string, unknown> = {}) {
    const b = await activeSurvey(ctx, admin, DEF, replacementExtra);
    const a = await activeSurvey(ctx, admin, DEF, { replacements: [b.slug], allowUserGeneration: true, jwtSecret: JWT_SECRET, ...extra });
    return { a, b };
  }

  it('never moves a member who has used their one attempt: status 7 on every way in', async () => {
    const admin = await ctx.newAdmin();
    const { a, b } = await pair(admin, { entryParams: ['country'], entryScreening: [{ when: { param: 'country' }, equals: 'FR' }] });
    const r = await newRespondent(ctx, a.slug);
    expect((await submit(a.slug, r.headers)).outcome).toBe('completed');
    // Open survey, screened out now: the page says status 7 (no failure URL), no move.
    const screened = await ctx.inject({ method: 'GET', url: `/a/${r.token}?country=FR` });
    expect(screened.statusCode).toBe(403);
    expect(screened.body).toContain('status 7');
    // Closed: the API answers 403 with status 7, the browser page too; nothing in B.
    await patch(admin, a.slug, { state: 'closed' });
    const api = await ctx.inject({ method: 'POST', url: `/api/surveys/${a.slug}/auth`, payload: { token: r.token } });
    expect(api.statusCode).toBe(403);
    expect(api.json().error).toMatchObject({ code: 'ENTRY_REFUSED', details: { status: 7 } });
    expect((await ctx.inject({ method: 'GET', url: `/a/${r.token}` })).body).toContain('status 7');
    const viaJwt = await ctx.inject({ method: 'GET', url: `/surveys/${a.slug}?createUser=${await jwt({ username: r.respondent.username })}` });
    expect(viaJwt.statusCode).toBe(403);
    expect(await rowOf(b.survey.id, r.respondent.username)).toBeUndefined();
    // With a failure URL, the same entries go there with status 7.
    await patch(admin, a.slug, { outcomeUrls: { disqualified: FAILURE } });
    expect(String((await ctx.inject({ method: 'GET', url: `/a/${r.token}` })).headers.location)).toBe(`${FAILURE}?status=7`);
  });

  it('answers a banned member 9 before anything else, with no survey or member values in the URL', async () => {
    const admin = await ctx.newAdmin();
    const { a } = await pair(admin, {
      entryParams: ['mid'], redirectParams: ['surveyId', 'userId', 'status'],
      outcomeUrls: { disqualified: 'https://partner.example/failure/{survey}?u={username}&m={entry:mid}&l={l1}' },
    });
    const r = await newRespondent(ctx, a.slug, { l1: 'group-x' });
    expect((await submit(a.slug, r.headers)).outcome).toBe('completed');
    await ctx.inject({ method: 'POST', url: '/api/admin/blocklist', headers: admin.headers, payload: { identifier: r.respondent.username } });
    const res = await ctx.inject({ method: 'GET', url: `/a/${r.token}?mid=M9` });
    const location = String(res.headers.location);
    expect(new URL(location).searchParams.get('status')).toBe('9');
    for (const leak of [a.slug, r.respondent.username, 'M9', 'group-x']) expect(location).not.toContain(leak);
    const jwtEntry = await ctx.inject({ method: 'GET', url: `/surveys/${a.slug}?createUser=${await jwt({ username: r.respondent.username })}&mid=M9` });
    expect(String(jwtEntry.headers.location)).toBe(location);
  });

  it('gives moved members their entry survey on events from the CSV import too', async () => {
    const admin = await ctx.newAdmin();
    const { a, b } = await pair(admin, { state: 'closed' });
    const moved = await ctx.inject({ method: 'GET', url: `/surveys/${a.slug}?createUser=${await jwt({ username: 'csv-1' })}` });
    expect(moved.headers.location).toBe(`/surveys/${b.slug}`);
    const imported = await ctx.inject({
      method: 'POST', url: `/api/admin/surveys/${b.slug}/respondents/import?onExisting=update&wait=true`, headers: { ...admin.headers, 'content-type': 'text/csv' },
      payload: 'username,l1\ncsv-1,new-label\n',
    });
    expect(imported.json().state, imported.body).toBe('succeeded');
    const updated = (await eventsOf(ctx, b.survey.id)).filter((e) => e.type === 'respondent.updated');
    expect(updated).toHaveLength(1);
    expect(updated[0].payload).toMatchObject({ entrySurvey: { id: a.survey.id, slug: a.slug } });
  });

  it('skips a replacement that requires signed links when the entry was not signed, and one without questions', async () => {
    const admin = await ctx.newAdmin();
    const signed = await activeSurvey(ctx, admin, DEF, { requireSignedEntry: true, linkSigningSecret: 'replacement-link-secret-01' });
    const emptySlug = await ctx.newSurvey(admin, { state: 'active' });
    const open = await activeSurvey(ctx, admin, DEF);
    const a = await activeSurvey(ctx, admin, DEF, { replacements: [signed.slug, emptySlug, open.slug], state: 'closed', allowUserGeneration: true, jwtSecret: JWT_SECRET });
    const res = await ctx.inject({ method: 'GET', url: `/surveys/${a.slug}?createUser=${await jwt({ username: 'unsigned-1' })}&mid=FORGED` });
    expect(res.headers.location).toBe(`/surveys/${open.slug}`);
    // An authenticated API entry may go to the signed survey (its links are not in play).
    const api = await ctx.inject({ method: 'POST', url: `/api/surveys/${a.slug}/create-user`, payload: { token: await jwt({ username: 'api-1' }) } });
    expect(api.json().surveyId).toBe(signed.slug);
  });

  it('answers 10, not 7, when the only replacement allows several attempts and they are used', async () => {
    const admin = await ctx.newAdmin();
    const { a, b } = await pair(admin, { state: 'closed', outcomeUrls: { disqualified: FAILURE } }, { maxAttemptsPerRespondent: 2 });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const entry = await ctx.inject({ method: 'GET', url: `/surveys/${a.slug}?createUser=${await jwt({ username: 'multi-1' })}` });
      expect(entry.headers.location).toBe(`/surveys/${b.slug}`);
      const row = await rowOf(b.survey.id, 'multi-1');
      const bearer = { authorization: `Bearer ${await ctx.services().respondentSessions.issue(row)}` };
      expect((await submit(b.slug, bearer)).outcome).toBe('completed');
    }
    const third = await ctx.inject({ method: 'GET', url: `/surveys/${a.slug}?createUser=${await jwt({ username: 'multi-1' })}` });
    expect(String(third.headers.location)).toBe(`${FAILURE}?status=10`);
  });

  it('merges only this entry\'s parameters into a member already in the replacement (the latest entry wins)', async () => {
    const admin = await ctx.newAdmin();
    const { a, b } = await pair(admin, { entryParams: ['mid'] }, { entryParams: ['mid'] });
    const r = await newRespondent(ctx, a.slug);
    expect((await ctx.inject({ method: 'GET', url: `/a/${r.token}?mid=M-1` })).headers.location).toBe(`/surveys/${a.slug}`);
    await patch(admin, a.slug, { state: 'closed' });
    expect((await ctx.inject({ method: 'GET', url: `/a/${r.token}` })).headers.location).toBe(`/surveys/${b.slug}`);
    const moved = await rowOf(b.survey.id, r.respondent.username);
    expect(moved.entryParams).toEqual({ mid: 'M-1' });
    await ctx.inject({ method: 'GET', url: `/surveys/${b.slug}?auth=${ctx.services().respondents.token(moved)}&mid=M-3` });
    await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    expect((await rowOf(b.survey.id, r.respondent.username)).entryParams).toEqual({ mid: 'M-3' });
  });
});
