import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { respondents } from '../../src/db/schema/index.ts';
import { activeSurvey, eventsOf, newRespondent, createUserJwt, patchSurvey } from './runtimeFixtures.ts';

const FAILURE = 'https://partner.example/failure';
const DONE = 'https://partner.example/done';
const JWT_SECRET = 'create-user-secret-0000000002';
const DEF = { questions: [{ id: 'q', type: 'text', label: 'Q' }] };
const PANEL = {
  outcomeUrls: { disqualified: FAILURE, completed: DONE },
  redirectParams: ['surveyId', 'entrySurveyId', 'userId', 'mid', 'reward', 'rewardId', 'status'],
  entryParams: ['mid', 'country'],
  outcomeRewards: { completed: { reward: 2.5 } },
  allowUserGeneration: true,
  jwtSecret: JWT_SECRET,
};

describe('panel mode: replacement surveys', () => {
  const ctx = setupApp();
  const db = () => ctx.services().database.db;
  const patch = (admin: TestAdmin, slug: string, payload: Record<string, unknown>) => patchSurvey(ctx, admin, slug, payload);
  const jwt = (claims: Record<string, unknown>) => createUserJwt(JWT_SECRET, claims);
  const rowsIn = (surveyId: number) => db().select().from(respondents).where(eq(respondents.surveyId, surveyId));
  const rowOf = async (surveyId: number, username: string) =>
    (await db().select().from(respondents).where(and(eq(respondents.surveyId, surveyId), eq(respondents.username, username))))[0];
  const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0];
  /** The failure redirect's status, after checking it goes to the failure URL. */
  const failureStatus = (res: { headers: Record<string, unknown> }) => {
    const url = new URL(String(res.headers.location));
    expect(url.origin + url.pathname).toBe(FAILURE);
    return url.searchParams.get('status');
  };
  const bearer = async (row: typeof respondents.$inferSelect) => ({ authorization: `Bearer ${await ctx.services().respondentSessions.issue(row)}` });

  /** An entry survey and its replacements, all with the panel settings; `entry` gets `extra`. */
  async function panel(admin: TestAdmin, extra: Record<string, unknown> = {}, entryDef: unknown = DEF, replacementCount = 1) {
    const reps = [];
    for (let i = 0; i < replacementCount; i++) reps.push(await activeSurvey(ctx, admin, DEF, PANEL));
    const entry = await activeSurvey(ctx, admin, entryDef, { ...PANEL, replacements: reps.map((r) => r.slug), ...extra });
    return { entry, reps };
  }

  it('moves a respondent of a closed survey into the replacement: redirect and webhook say surveyId and entrySurveyId', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin);
    const r = await newRespondent(ctx, entry.slug, { l1: 'panel-a' });
    await db().update(respondents).set({ entryParams: { country: 'UK' } }).where(eq(respondents.id, r.respondent.id));
    expect((await patch(admin, entry.slug, { state: 'closed' })).statusCode).toBe(200);

    const res = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?auth=${r.token}&mid=M-1` });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`/surveys/${b.slug}`);
    const moved = await rowOf(b.survey.id, r.respondent.username);
    expect(moved).toMatchObject({ createdVia: 'replacement', entrySurveyId: entry.survey.id, l1: 'panel-a', test: false, entryParams: { country: 'UK', mid: 'M-1' } });
    expect(moved.id).not.toBe(r.respondent.id);
    expect((await ctx.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^replacement_moves_total [1-9]/m);

    // The cookie signs them in to the replacement; its session answers there.
    const session = await ctx.inject({ method: 'GET', url: `/api/surveys/${b.slug}/session`, headers: { cookie: cookieOf(res) } });
    expect(session.statusCode, session.body).toBe(200);

    const sub = await ctx.inject({ method: 'POST', url: `/api/surveys/${b.slug}/session/submit`, headers: await bearer(moved), payload: {} });
    expect(sub.json().outcome, sub.body).toBe('completed');
    const url = new URL(sub.json().redirectUrl);
    expect(url.origin + url.pathname).toBe(DONE);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ surveyId: b.slug, entrySurveyId: entry.slug, userId: r.respondent.username, mid: 'M-1', reward: '2.5' });

    const evts = await eventsOf(ctx, b.survey.id);
    const created = evts.find((e) => e.type === 'respondent.created')!;
    expect(created.data).toMatchObject({ createdVia: 'replacement', username: r.respondent.username });
    const completed = evts.find((e) => e.type === 'submission.completed')!;
    expect(completed.payload).toMatchObject({ survey: { slug: b.slug }, entrySurvey: { id: entry.survey.id, slug: entry.slug } });
    expect(completed.data).toMatchObject({ reward: '2.5', rewardId: url.searchParams.get('rewardId'), attempt: 1 });
    // Nothing was written to the entry survey's respondent.
    expect((await rowOf(entry.survey.id, r.respondent.username)).status).toBe('started');

    // The rewards export of the replacement names the entry survey.
    const csv = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${b.slug}/rewards.csv`, headers: admin.headers });
    const cells = csv.body.trim().split(/\r?\n/)[1].split(',');
    expect(cells[6]).toBe(url.searchParams.get('rewardId'));
    expect(cells.slice(9)).toEqual(['1', entry.slug]);

    // Back through the entry survey's link after completing the replacement: already attempted (7).
    const again = await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    expect(failureStatus(again)).toBe('7');
    // The panel learns which member was turned away, and from which survey.
    expect(Object.fromEntries(new URL(String(again.headers.location)).searchParams)).toMatchObject({ userId: r.respondent.username, surveyId: entry.slug });
  });

  it.each([
    ['closed', { state: 'closed' }, DEF, ''],
    ['full', {}, { ...DEF, quota: { maxCompletes: 1 } }, ''],
    ['screened out on entry', { entryScreening: [{ when: { param: 'country' }, in: ['FR'] }] }, DEF, '&country=FR'],
  ] as const)('moves the member when the entry survey is %s: redirect and webhook name both surveys', async (_reason, extra, entryDef, query) => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin, {}, entryDef);
    if (entryDef !== DEF) {
      const filler = await newRespondent(ctx, entry.slug);
      expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${entry.slug}/session/submit`, headers: filler.headers, payload: {} })).json().outcome).toBe('completed');
    }
    if (Object.keys(extra).length > 0) expect((await patch(admin, entry.slug, extra)).statusCode).toBe(200);
    const username = `member-${_reason.length}`;
    const res = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?createUser=${await jwt({ username })}&mid=MID${query}` });
    expect(res.headers.location, res.body).toBe(`/surveys/${b.slug}`);
    const moved = await rowOf(b.survey.id, username);
    const sub = await ctx.inject({ method: 'POST', url: `/api/surveys/${b.slug}/session/submit`, headers: await bearer(moved), payload: {} });
    const url = new URL(sub.json().redirectUrl);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ surveyId: b.slug, entrySurveyId: entry.slug, userId: username, mid: 'MID', reward: '2.5' });
    const completed = (await eventsOf(ctx, b.survey.id)).find((e) => e.type === 'submission.completed')!;
    expect(completed.payload).toMatchObject({ survey: { slug: b.slug }, entrySurvey: { slug: entry.slug }, respondent: { username } });
    expect(completed.data).toMatchObject({ reward: '2.5', rewardId: url.searchParams.get('rewardId') });
  });

  it('moves a ?createUser= entrant of a full survey, using up the JWT; the entry survey gets no respondent', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin, {}, { ...DEF, quota: { maxCompletes: 1 } });
    const first = await newRespondent(ctx, entry.slug);
    expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${entry.slug}/session/submit`, headers: first.headers, payload: {} })).json().outcome).toBe('completed');

    const token = await new SignJWT({ username: 'jwt-1', l2: 'from-claim', jti: 'once-1' }).setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));
    const res = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?createUser=${token}&mid=M-2` });
    expect(res.headers.location, res.body).toBe(`/surveys/${b.slug}`);
    expect(await rowOf(b.survey.id, 'jwt-1')).toMatchObject({ createdVia: 'replacement', entrySurveyId: entry.survey.id, l2: 'from-claim', entryParams: { mid: 'M-2' } });
    expect((await rowsIn(entry.survey.id)).map((x) => x.username)).toEqual([first.respondent.username]);
    // The move starts their session in the replacement: created, then started (attempt 1).
    const types = (await eventsOf(ctx, b.survey.id)).map((e) => [e.type, e.data.attempt ?? null, (e.payload as { entrySurvey?: { slug: string } }).entrySurvey?.slug]);
    expect(types).toEqual([['respondent.created', null, entry.slug], ['session.started', 1, entry.slug]]);
    expect((await rowOf(b.survey.id, 'jwt-1')).status).toBe('started');

    const replay = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?createUser=${token}` });
    expect(replay.statusCode).toBe(401);
    expect(await rowsIn(b.survey.id)).toHaveLength(1);
  });

  it('tries replacements in order, skipping closed, full and screening ones; entry screening moves too', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [closed, full, screening, open] } = await panel(admin, {
      entryScreening: [{ when: { param: 'country' }, in: ['FR'] }],
    }, DEF, 4);
    await patch(admin, closed.slug, { state: 'closed' });
    const fullDef = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${full.slug}/definition`, headers: admin.headers, payload: { ...DEF, quota: { maxCompletes: 1 } } });
    expect(fullDef.statusCode).toBe(200);
    const filler = await newRespondent(ctx, full.slug);
    await ctx.inject({ method: 'POST', url: `/api/surveys/${full.slug}/session/submit`, headers: filler.headers, payload: {} });
    await patch(admin, screening.slug, { entryScreening: [{ when: { param: 'country' }, equals: 'FR' }] });

    const r = await newRespondent(ctx, entry.slug);
    const uk = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?auth=${r.token}&country=UK` });
    expect(uk.headers.location).toBe(`/surveys/${entry.slug}`); // not screened: stays
    const fr = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?auth=${r.token}&country=FR` });
    expect(fr.headers.location).toBe(`/surveys/${open.slug}`);
    for (const s of [closed, full, screening]) expect(await rowOf(s.survey.id, r.respondent.username)).toBeUndefined();
  });

  it('gives the reason\'s status when no replacement is left: 6 closed, 11 full, 19 screened', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin, { entryScreening: [{ when: { param: 'country' }, equals: 'FR' }] });
    await patch(admin, b.slug, { state: 'closed' });
    const r = await newRespondent(ctx, entry.slug);
    const screened = await ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?auth=${r.token}&country=FR` });
    expect(failureStatus(screened)).toBe('19');
    await patch(admin, entry.slug, { state: 'closed' });
    expect(failureStatus(await ctx.inject({ method: 'GET', url: `/a/${r.token}` }))).toBe('6');

    const { entry: full, reps: [fullRep] } = await panel(admin, {}, { ...DEF, quota: { maxCompletes: 1 } });
    await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${fullRep.slug}/definition`, headers: admin.headers, payload: { ...DEF, quota: { maxCompletes: 1 } } });
    for (const s of [full, fullRep]) {
      const filler = await newRespondent(ctx, s.slug);
      expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${s.slug}/session/submit`, headers: filler.headers, payload: {} })).json().outcome).toBe('completed');
    }
    const late = await newRespondent(ctx, full.slug);
    expect(failureStatus(await ctx.inject({ method: 'GET', url: `/a/${late.token}` }))).toBe('11');
    expect(await rowOf(fullRep.survey.id, late.respondent.username)).toBeUndefined();
    expect(await rowOf(b.survey.id, r.respondent.username)).toBeUndefined();
    // Operators see the refusals in /metrics.
    const metrics = (await ctx.inject({ method: 'GET', url: '/metrics' })).body;
    for (const status of ['6', '11', '19']) expect(metrics).toMatch(new RegExp(`^entry_refusals_total\\{status="${status}"\\} [1-9]`, 'm'));
  });

  it('keeps entrySurveyId once set: direct entries to the replacement and repeated moves never reset it', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin);
    const r = await newRespondent(ctx, entry.slug);
    await patch(admin, entry.slug, { state: 'closed' });
    await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    const moved = await rowOf(b.survey.id, r.respondent.username);
    const direct = await ctx.inject({ method: 'GET', url: `/surveys/${b.slug}?auth=${ctx.services().respondents.token(moved)}&mid=M-3` });
    expect(direct.headers.location).toBe(`/surveys/${b.slug}`);
    const again = await ctx.inject({ method: 'GET', url: `/a/${r.token}` });
    expect(again.headers.location).toBe(`/surveys/${b.slug}`);
    const rows = await rowsIn(b.survey.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: moved.id, entrySurveyId: entry.survey.id, entryParams: { mid: 'M-3' } });
    const events = await eventsOf(ctx, b.survey.id);
    expect(events.filter((e) => e.type === 'respondent.created')).toHaveLength(1);
    // The admin API says where each came in: the moved one through the entry survey, the one
    // who entered directly through its own, one who never came in: null.
    const get = async (slug: string, username: string) =>
      (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/${encodeURIComponent(username)}`, headers: admin.headers })).json().entrySurvey;
    expect(await get(b.slug, r.respondent.username)).toBe(entry.slug);
    const list = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${b.slug}/respondents`, headers: admin.headers })).json().items;
    expect(list.map((x: { entrySurvey: string | null }) => x.entrySurvey)).toEqual([entry.slug]);
    const never = await newRespondent(ctx, b.slug);
    expect(await get(b.slug, never.respondent.username)).toBeNull();
    await ctx.inject({ method: 'GET', url: `/a/${never.token}` });
    expect(await get(b.slug, never.respondent.username)).toBe(b.slug);
  });

  it('makes one replacement respondent when the same member enters many times at once', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin);
    const r = await newRespondent(ctx, entry.slug);
    await patch(admin, entry.slug, { state: 'closed' });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ctx.inject({ method: 'GET', url: `/surveys/${entry.slug}?auth=${r.token}&mid=M-${i}` })));
    expect(results.map((x) => x.headers.location)).toEqual(Array(12).fill(`/surveys/${b.slug}`));
    const rows = await rowsIn(b.survey.id);
    expect(rows).toHaveLength(1);
    const types = (await eventsOf(ctx, b.survey.id)).map((e) => e.type);
    expect(types.filter((t) => t === 'respondent.created')).toHaveLength(1);
    expect(types.filter((t) => t === 'session.started')).toHaveLength(1);
  });

  it('checks the replacements setting: surveys of the same account, not itself', async () => {
    const admin = await ctx.newAdmin();
    const other = await ctx.newAdmin();
    const own = await activeSurvey(ctx, admin, DEF);
    const foreign = await activeSurvey(ctx, other, DEF);
    const self = await patch(admin, own.slug, { replacements: [own.slug] });
    expect(self.statusCode).toBe(400);
    expect(self.json().error.details.fields[0]).toMatchObject({ path: '/body/replacements/0' });
    const cross = await patch(admin, own.slug, { replacements: [foreign.slug] });
    expect(cross.statusCode).toBe(400);
    expect(cross.json().error.message).toContain(foreign.slug);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${own.slug}`, headers: admin.headers })).json().replacements).toBeUndefined();
  });

  it('applies to the API entry points: create-user and auth answer the replacement; refusals are 403 with details.status', async () => {
    const admin = await ctx.newAdmin();
    const { entry, reps: [b] } = await panel(admin);
    await patch(admin, entry.slug, { state: 'closed' });
    const created = await ctx.inject({ method: 'POST', url: `/api/surveys/${entry.slug}/create-user`, payload: { token: await jwt({ username: 'api-1' }) } });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({ username: 'api-1', surveyId: b.slug, entrySurveyId: entry.slug });
    expect(created.json().authUrl).toContain(`/surveys/${b.slug}?auth=`);

    const r = await newRespondent(ctx, entry.slug);
    const signed = await ctx.inject({ method: 'POST', url: `/api/surveys/${entry.slug}/auth`, payload: { token: r.token } });
    expect(signed.statusCode, signed.body).toBe(200);
    expect(signed.json()).toMatchObject({ surveyId: b.slug, entrySurveyId: entry.slug });
    const session = await ctx.inject({ method: 'GET', url: `/api/surveys/${b.slug}/session`, headers: { authorization: `Bearer ${signed.json().accessToken}` } });
    expect(session.statusCode, session.body).toBe(200);

    await patch(admin, b.slug, { state: 'closed' });
    const refused = await ctx.inject({ method: 'POST', url: `/api/surveys/${entry.slug}/create-user`, payload: { token: await jwt({ username: 'api-2' }) } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'SURVEY_CLOSED', details: { status: 6 } });

    await patch(admin, entry.slug, { state: 'active' });
    await ctx.inject({ method: 'POST', url: '/api/admin/blocklist', headers: admin.headers, payload: { identifier: 'api-3' } });
    const banned = await ctx.inject({ method: 'GET', url: `/api/surveys/${entry.slug}/create-user?params=${await jwt({ username: 'api-3' })}` });
    expect(banned.statusCode).toBe(403);
    expect(banned.json().error).toMatchObject({ code: 'ENTRY_REFUSED', details: { status: 9 } });
    expect(await rowOf(entry.survey.id, 'api-3')).toBeUndefined();
  });
});
