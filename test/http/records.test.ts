import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { setupApp } from '../helpers/app.ts';
import { activeSurvey, eventsOf, newRespondent } from './runtimeFixtures.ts';

const LEVELS = [
  { id: 'entry', seq: 1, name: 'Data Entry', lock: false, roles: ['owner', 'admin', 'reviewer'] },
  { id: 'monitor', seq: 2, name: 'Monitor Review', lock: true, roles: ['owner', 'reviewer'] },
];

describe('records and review levels', () => {
  const ctx = setupApp();

  async function answered(slug: string, answers: Record<string, unknown>, submit = false) {
    const r = await newRespondent(ctx, slug);
    const saved = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers } });
    expect(saved.statusCode, saved.body).toBe(200);
    if (submit) expect((await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: r.headers })).statusCode).toBe(200);
    return { ...r, recordId: saved.json().recordId as number };
  }

  it('lists records with filters and cursor pagination, and shows one with labels and history', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const a = await answered(slug, { name: 'A', age: 30 }, true);
    const b = await answered(slug, { name: 'B', age: 10 }, true);
    await answered(slug, { name: 'C' });
    const all = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?limit=2`, headers: admin.headers });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().items).toHaveLength(2);
    const rest = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?limit=2&cursor=${all.json().nextCursor}`, headers: admin.headers });
    expect(rest.json()).toMatchObject({ items: [{ answers: { name: 'C' }, outcome: null }], nextCursor: null });
    const dq = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?outcome=disqualified`, headers: admin.headers });
    expect(dq.json().items.map((r: { id: number }) => r.id)).toEqual([b.recordId]);
    const open = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?status=in_progress`, headers: admin.headers });
    expect(open.json().items).toHaveLength(1);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?cursor=garbage`, headers: admin.headers })).statusCode).toBe(400);

    const one = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records/${a.recordId}`, headers: admin.headers });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ outcome: 'completed', respondent: { userId: a.respondent.id, username: a.respondent.username } });
    expect(one.json().labelledAnswers).toEqual([{ questionId: 'name', label: 'Your name', type: 'text', value: 'A' }, { questionId: 'age', label: 'Age', type: 'number', value: 30 }]);
    expect(one.json().history.map((h: { action: string }) => h.action)).toEqual(['inserted', 'submitted']);
    const stranger = await ctx.newAdmin();
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records/${a.recordId}`, headers: stranger.headers })).statusCode).toBe(404);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records/999999999`, headers: admin.headers })).json().error.code).toBe('RECORD_NOT_FOUND');
  });

  it('moves records through review levels: roles, lock, lock broken, and the event', async () => {
    const admin = await ctx.newAdmin();
    const { slug, survey } = await activeSurvey(ctx, admin, undefined, { reviewLevels: LEVELS });
    const reviewer = await ctx.newAdmin('reviewer', admin.accountId);
    const otherAdmin = await ctx.newAdmin('admin', admin.accountId);
    const r = await answered(slug, { name: 'R' });
    const url = `/api/admin/surveys/${slug}/records/${r.recordId}/review`;

    const forbidden = await ctx.inject({ method: 'POST', url, headers: otherAdmin.headers, payload: { level: 'monitor' } });
    expect(forbidden.statusCode).toBe(403);
    const unknown = await ctx.inject({ method: 'POST', url, headers: reviewer.headers, payload: { level: 'nope' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details.fields[0].path).toBe('/body/level');

    const locked = await ctx.inject({ method: 'POST', url, headers: reviewer.headers, payload: { level: 'monitor' } });
    expect(locked.statusCode, locked.body).toBe(200);
    expect(locked.json()).toMatchObject({ from: null, to: { id: 'monitor', seq: 2, name: 'Monitor Review', lock: true }, lockBroken: false, changed: true, record: { locked: true, reviewLevel: 'monitor' } });
    const edit = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'changed' } } });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().error.code).toBe('RECORD_LOCKED');
    const s = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/session`, headers: r.headers });
    expect(s.json().locked).toBe(true);

    const same = await ctx.inject({ method: 'POST', url, headers: reviewer.headers, payload: { level: 'monitor' } });
    expect(same.json().changed).toBe(false);
    const back = await ctx.inject({ method: 'POST', url, headers: reviewer.headers, payload: { level: 'entry' } });
    expect(back.json()).toMatchObject({ from: { id: 'monitor', lock: true }, to: { id: 'entry', lock: false }, lockBroken: true, record: { locked: false } });
    expect((await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'changed' } } })).statusCode).toBe(200);

    const reviews = (await eventsOf(ctx, survey.id)).filter((e) => e.type === 'record.review_changed');
    expect(reviews.map((e) => e.data)).toEqual([
      { recordId: r.recordId, from: null, to: { id: 'monitor', seq: 2, name: 'Monitor Review', lock: true }, lockBroken: false },
      { recordId: r.recordId, from: { id: 'monitor', seq: 2, name: 'Monitor Review', lock: true }, to: { id: 'entry', seq: 1, name: 'Data Entry', lock: false }, lockBroken: true },
    ]);
    const filtered = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records?reviewLevel=entry`, headers: admin.headers });
    expect(filtered.json().items).toHaveLength(1);
    const history = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/records/${r.recordId}`, headers: admin.headers });
    expect(history.json().history.filter((h: { action: string }) => h.action === 'review_changed')).toHaveLength(2);
  });

  it('exports submissions as CSV (formula-guarded) and JSON, keeping answers to dropped questions', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    await answered(slug, { name: '=HYPERLINK("http://x")', age: 30, pets: ['cat', 'dog'], notes: 'line one\nline, two' }, true);
    await answered(slug, { name: '@SUM(A1)', age: 12 }, true);
    await answered(slug, { name: 'in progress' });
    // Version 2 drops every question but name: the old answers must still export.
    await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'name', type: 'text', label: 'Name' }, { id: 'new', type: 'text', label: 'New' }] } });

    const csv = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/submissions/export.csv`, headers: admin.headers });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0]).slice(9)).toEqual(['name', 'new', 'age', 'colour', 'pets', 'smoker', 'born', 'notes']);
    expect(rows[0]).toMatchObject({ name: `'=HYPERLINK("http://x")`, age: '30', pets: 'cat;dog', notes: 'line one\nline, two', outcome: 'completed' });
    expect(rows[1]).toMatchObject({ name: "'@SUM(A1)", outcome: 'disqualified', status: '14' });

    const json = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/submissions/export.json?outcome=completed`, headers: admin.headers });
    expect(json.statusCode).toBe(200);
    const body = json.json();
    expect(body.questions).toMatchObject({ name: 'Name', age: 'Age' });
    expect(body.items).toHaveLength(1);
    expect(body.items[0].answers).toEqual({ name: '=HYPERLINK("http://x")', age: 30, pets: ['cat', 'dog'], notes: 'line one\nline, two' });
    const viewer = await ctx.newAdmin('viewer', admin.accountId);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/submissions/export.csv`, headers: viewer.headers })).statusCode).toBe(200);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/submissions/export.csv` })).statusCode).toBe(401);
  });
});
