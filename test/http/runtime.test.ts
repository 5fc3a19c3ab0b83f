import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { respondents } from '../../src/db/schema/index.ts';
import { setupApp } from '../helpers/app.ts';
import { BASIC_DEFINITION, activeSurvey, eventsOf, newRespondent } from './runtimeFixtures.ts';

describe('survey definitions', () => {
  const ctx = setupApp();

  it('rejects an invalid definition with 400 naming each path', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const res = await ctx.inject({
      method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers,
      payload: {
        questions: [{ id: 'a', type: 'text', label: 'A' }, { id: 'a', type: 'single', label: 'Again' }],
        screening: [{ when: { question: 'nope', equals: 'x' }, outcome: 'disqualified', status: 13 }],
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_DEFINITION');
    const paths = res.json().error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/questions/1/id', '/body/questions/1/options', '/body/screening/0/when/question']));
    const shape = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'a', type: 'essay', label: 'A' }] } });
    expect(shape.statusCode).toBe(400);
    const typed = await ctx.inject({
      method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers,
      payload: { questions: [{ id: 'b', type: 'boolean', label: 'B' }], screening: [{ when: { question: 'b', equals: 'true' }, outcome: 'disqualified' }] },
    });
    expect(typed.statusCode).toBe(400);
    expect(typed.json().error.details.fields[0].path).toBe('/body/screening/0/when/equals');
  });

  it('never answers 500 to arbitrary definitions', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const types = ['text', 'longtext', 'number', 'single', 'multi', 'boolean', 'date', 'bad'];
    const question = fc.record(
      {
        id: fc.constantFrom('a', 'b', '1x'), type: fc.constantFrom(...types), label: fc.string({ maxLength: 5 }), required: fc.boolean(),
        options: fc.array(fc.record({ value: fc.string({ maxLength: 3 }), label: fc.string({ maxLength: 3 }) }), { maxLength: 3 }),
        min: fc.integer({ min: -3, max: 3 }), max: fc.double({ noNaN: true, min: -5, max: 5 }),
      },
      { requiredKeys: ['id', 'type', 'label'] },
    );
    const rule = fc.record({
      when: fc.record({ question: fc.constantFrom('a', 'b', 'c'), equals: fc.jsonValue({ maxDepth: 1 }), in: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }), lt: fc.jsonValue({ maxDepth: 1 }), gt: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ['question'] }),
      outcome: fc.constantFrom('disqualified', 'quota_full', 'x'),
    });
    await fc.assert(
      fc.asyncProperty(fc.record({ questions: fc.array(question, { maxLength: 3 }), screening: fc.array(rule, { maxLength: 2 }) }), async (def) => {
        const res = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: def });
        expect(res.statusCode, res.body).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it('versions every save and keeps old versions readable', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const none = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers });
    expect(none.statusCode).toBe(404);
    const v1 = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: BASIC_DEFINITION });
    expect(v1.json().version).toBe(1);
    const v2 = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'q', type: 'text', label: 'Q' }] } });
    expect(v2.json().version).toBe(2);
    const current = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers });
    expect(current.json().definition.questions).toHaveLength(1);
    const old = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/definition?version=1`, headers: admin.headers });
    expect(old.json().definition.questions).toHaveLength(7);
    const survey = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
    expect(survey.json().definitionVersion).toBe(2);
    const viewer = await ctx.newAdmin('viewer', admin.accountId);
    expect((await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: viewer.headers, payload: BASIC_DEFINITION })).statusCode).toBe(403);
    const stranger = await ctx.newAdmin();
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/definition`, headers: stranger.headers })).statusCode).toBe(404);
  });
});

describe('respondent session', () => {
  const ctx = setupApp();

  it('inserts the record at the first save, updates it later, merges by id and clears with null', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    const start = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ state: 'not_started', locked: false, answers: {}, recordId: null, definitionVersion: 1 });
    expect(start.json().definition.questions).toHaveLength(7);
    expect(start.json().definition.screening).toBeUndefined();

    const first = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'Ada', pets: ['cat'] } } });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ answers: { name: 'Ada', pets: ['cat'] }, hooks: [] });
    const second = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { pets: null, age: 40, name: 'Ada' } } });
    expect(second.json().answers).toEqual({ name: 'Ada', age: 40 });
    expect(second.json().changed.sort()).toEqual(['age', 'pets']);
    const same = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { age: 40 } } });
    expect(same.json().changed).toEqual([]);

    const evs = await eventsOf(ctx, survey.id);
    expect(evs.map((e) => e.type)).toEqual(['record.inserted', 'record.updated']);
    expect(evs[0].data).toEqual({ recordId: first.json().recordId, answers: { name: 'Ada', pets: ['cat'] }, definitionVersion: 1 });
    expect(evs[1].data.answers).toEqual({ pets: null, age: 40 });
    const again = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(again.json()).toMatchObject({ state: 'in_progress', answers: { name: 'Ada', age: 40 } });
  });

  it('validates answers against the definition', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    const bad = await ctx.inject({
      method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers,
      payload: { answers: { age: 'forty', colour: 'green', pets: ['cat', 'cat'], smoker: 'no', born: '2020-02-30', ghost: 1 } },
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(['/body/answers/age', '/body/answers/born', '/body/answers/colour', '/body/answers/ghost', '/body/answers/pets', '/body/answers/smoker']);
    const range = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { age: 200 } } });
    expect(range.statusCode).toBe(400);
    // Nothing was written by the rejected saves.
    const s = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(s.json().recordId).toBeNull();
  });

  it('never answers 500 to arbitrary answer payloads', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('name', 'age', 'colour', 'pets', 'smoker', 'born', 'x'), fc.jsonValue({ maxDepth: 2 })), async (answers) => {
        const res = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers } });
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: 40 },
    );
  });

  it('submits: required answers first, then completion with the redirect and the event', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug, { l1: 'wave-1' });
    const missing = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('MISSING_ANSWERS');
    expect(missing.json().error.details.missing).toEqual(['name', 'age']);
    await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'Ada', age: 36, smoker: false } } });
    const done = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ outcome: 'completed', hooks: [] });
    expect(done.json().redirectUrl).toMatch(/^https:\/\/panel\.example\/done/);

    const [row] = await ctx.services().database.db.select().from(respondents).where(eq(respondents.id, r.respondent.id));
    expect(row.status).toBe('completed');
    const completed = (await eventsOf(ctx, survey.id)).filter((e) => e.type === 'submission.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0].data).toMatchObject({
      recordId: done.json().recordId, outcome: 'completed', labels: { l1: 'wave-1' }, customFields: {}, redirectUrl: done.json().redirectUrl,
      answers: [{ questionId: 'name', label: 'Your name', type: 'text', value: 'Ada' }, { questionId: 'age', label: 'Age', type: 'number', value: 36 }, { questionId: 'smoker', label: 'Do you smoke?', type: 'boolean', value: false }],
    });

    const count = (await eventsOf(ctx, survey.id)).length;
    const twice = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('ALREADY_SUBMITTED');
    const late = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'Bob' } } });
    expect(late.statusCode).toBe(409);
    expect((await eventsOf(ctx, survey.id)).length).toBe(count);
    const s = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(s.json()).toMatchObject({ state: 'completed', result: { outcome: 'completed' } });
  });

  it('screens out by the first matching rule, with its status or the inBrain default', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const young = await newRespondent(ctx, slug);
    await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: young.headers, payload: { answers: { name: 'Kid', age: 12 } } });
    const out = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: young.headers });
    expect(out.json()).toMatchObject({ outcome: 'disqualified', status: 14 });
    const smoker = await newRespondent(ctx, slug);
    await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: smoker.headers, payload: { answers: { name: 'S', age: 50, smoker: true } } });
    const out2 = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: smoker.headers });
    expect(out2.json()).toMatchObject({ outcome: 'disqualified', status: 13 });
    const evs = await eventsOf(ctx, survey.id);
    expect(evs.filter((e) => e.type === 'session.disqualified')).toHaveLength(2);
    expect(evs.filter((e) => e.type === 'submission.completed')).toHaveLength(0);
  });

  it('counts the quota atomically: respondents racing for the last places cannot all complete', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, { questions: [{ id: 'q', type: 'text', label: 'Q' }], quota: { maxCompletes: 2 } });
    const racers = await Promise.all(Array.from({ length: 6 }, () => newRespondent(ctx, slug)));
    const results = await Promise.all(racers.map((r) => ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers })));
    const outcomes = results.map((res) => res.json().outcome).sort();
    expect(outcomes).toEqual(['completed', 'completed', 'quota_full', 'quota_full', 'quota_full', 'quota_full']);
    expect(results.find((res) => res.json().outcome === 'quota_full')!.json().status).toBe(15);
    const types = (await eventsOf(ctx, survey.id)).map((e) => e.type);
    expect(types.filter((t) => t === 'submission.completed')).toHaveLength(2);
    expect(types.filter((t) => t === 'session.quota_full')).toHaveLength(4);
    // Test respondents may still complete a full survey (panel mode), and never take a place.
    const tester = await newRespondent(ctx, slug, { test: true });
    const t = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: tester.headers });
    expect(t.json().outcome).toBe('completed');
    const late = await newRespondent(ctx, slug);
    const l = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: late.headers });
    expect(l.json().outcome).toBe('quota_full');
  });

  it('writes nothing when any step of the submit fails (one transaction)', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'Ada', age: 36 } } });
    const before = (await eventsOf(ctx, survey.id)).length;
    const redirects = ctx.services().redirects;
    const original = redirects.resolveRedirect;
    // The last step before the writes fails: the whole submit must roll back.
    redirects.resolveRedirect = async () => {
      throw new Error('redirect resolution failed');
    };
    try {
      const failed = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers });
      expect(failed.statusCode).toBe(500);
    } finally {
      redirects.resolveRedirect = original;
    }
    expect((await eventsOf(ctx, survey.id)).length).toBe(before);
    const s = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(s.json()).toMatchObject({ state: 'in_progress', result: null });
    const ok = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers });
    expect(ok.json().outcome).toBe('completed');
  });

  it('exits with outcome exited and status 13', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    const res = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/exit`, headers: r.headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'exited', status: 13 });
    expect((await eventsOf(ctx, survey.id)).map((e) => e.type)).toEqual(['record.inserted', 'session.exited']);
    expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/exit`, headers: r.headers })).statusCode).toBe(409);
  });

  it('keeps a record on the version it was started on', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { notes: 'hello' } } });
    await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'other', type: 'text', label: 'Other' }] } });
    const s = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(s.json().definitionVersion).toBe(1);
    const fresh = await newRespondent(ctx, slug);
    const f = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: fresh.headers });
    expect(f.json().definitionVersion).toBe(2);
  });

  it('guards the door: sign-in, closed surveys, and the Origin check for cookie writes', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    expect((await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session` })).statusCode).toBe(401);
    expect((await ctx.inject({ method: 'GET', url: `/api/surveys/no-such-survey/session`, headers: r.headers })).statusCode).toBe(404);
    const other = await activeSurvey(ctx, admin);
    expect((await ctx.inject({ method: 'GET', url: `/api/surveys/${other.slug}/session`, headers: r.headers })).statusCode).toBe(401);

    const cookie = { cookie: `sb_r${survey.id}=${r.bearer}` };
    const payload = { answers: { name: 'C' } };
    const noOrigin = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: cookie, payload });
    expect(noOrigin.json().error.code).toBe('CSRF_FAILED');
    const evil = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: { ...cookie, origin: 'https://evil.example' }, payload });
    expect(evil.statusCode).toBe(403);
    const ok = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: { ...cookie, origin: ctx.config().publicUrl }, payload });
    expect(ok.statusCode, ok.body).toBe(200);

    await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { state: 'closed' } });
    const closed = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(closed.statusCode).toBe(403);
    expect(closed.json().error).toMatchObject({ code: 'SURVEY_CLOSED', details: { status: 6 } });
    expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers })).statusCode).toBe(403);
  });
});
