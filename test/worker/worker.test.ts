import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/webhookReceiver.ts';
import { startWorker } from '../../src/worker/index.ts';
import { emitEvent } from '../../src/events/outbox.ts';
import { surveyRef } from '../../src/surveys/service.ts';
import { rowsOf } from '../../src/db/client.ts';

describe('delivery worker', () => {
  const ctx = setupApp();
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  let n = 0;
  async function setup(admin: TestAdmin) {
    const slug = await ctx.newSurvey(admin);
    const path = `/w${n++}`;
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url: receiver.url(path), events: ['*'], auth: { type: 'none' } } });
    return { slug, path, endpointId: res.json().id as string };
  }
  async function emitMany(admin: TestAdmin, slug: string, count: number) {
    const s = ctx.services();
    const survey = surveyRef(await s.surveys.get(admin.accountId, slug));
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { event } = await s.database.db.transaction((tx) => emitEvent(tx, s.database.schemaName, { type: 'respondent.updated', survey, respondent: { userId: i, username: `u${i}` }, data: { i } }));
      ids.push(event.id);
    }
    return ids;
  }
  const on = (path: string) => (r: ReceivedRequest[]) => r.filter((x) => x.path === path);
  const db = () => ctx.services().database.db;

  it('is woken by NOTIFY (no waiting for the poll)', async () => {
    const worker = await startWorker(ctx.services(), { pollMs: 600_000 });
    try {
      const admin = await ctx.newAdmin();
      const { slug, path } = await setup(admin);
      const [id] = await emitMany(admin, slug, 1);
      const [req] = on(path)(await receiver.waitFor((r) => on(path)(r).length === 1, 20_000));
      expect(req.headers['webhook-id']).toBe(id);
    } finally {
      await worker.stop();
    }
  });

  it('shares the work between two workers: every event once, each endpoint started in event order', async () => {
    const admin = await ctx.newAdmin();
    const a = await setup(admin);
    const b = await setup(admin);
    const idsA = await emitMany(admin, a.slug, 30);
    const idsB = await emitMany(admin, b.slug, 30);
    const w1 = await startWorker(ctx.services(), { pollMs: 100, perEndpoint: 8 });
    const w2 = await startWorker(ctx.services(), { pollMs: 100, perEndpoint: 8 });
    try {
      await receiver.waitFor((r) => on(a.path)(r).length >= 30 && on(b.path)(r).length >= 30);
    } finally {
      await Promise.all([w1.stop(), w2.stop()]);
    }
    expect(on(a.path)(receiver.requests).map((r) => r.headers['webhook-id']).sort()).toEqual([...idsA].sort());
    expect(on(b.path)(receiver.requests).map((r) => r.headers['webhook-id']).sort()).toEqual([...idsB].sort());
    for (const ep of [a, b]) {
      // Attempt start times, in event order, never go backwards.
      const rows = rowsOf<{ at: string | Date; attempts: number }>(await db().execute(sql`
        SELECT a.at, d.attempts FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
        WHERE d.endpoint_id = ${ep.endpointId} ORDER BY d.event_seq`));
      expect(rows).toHaveLength(30);
      const starts = rows.map((r) => new Date(r.at).getTime());
      expect(starts).toEqual([...starts].sort((x, y) => x - y));
      expect(rows.every((r) => r.attempts === 1)).toBe(true);
    }
    const leased = rowsOf<{ n: number }>(await db().execute(sql`SELECT count(*)::int AS n FROM deliveries WHERE leased_by IS NOT NULL`));
    expect(leased[0].n).toBe(0);
  });

  it('takes over a delivery whose lease expired (its worker died)', async () => {
    const admin = await ctx.newAdmin();
    const { slug, path, endpointId } = await setup(admin);
    // Claimed by a worker that then vanished: leased, never attempted.
    const emitted = await (async () => {
      const s = ctx.services();
      const survey = surveyRef(await s.surveys.get(admin.accountId, slug));
      return s.database.db.transaction(async (tx) => {
        const e = await emitEvent(tx, s.database.schemaName, { type: 'session.started', survey, respondent: null, data: {} });
        await tx.execute(sql`UPDATE deliveries SET leased_by = 'worker:dead', leased_until = now() + interval '1 second' WHERE endpoint_id = ${endpointId}`);
        return e;
      });
    })();
    const worker = await startWorker(ctx.services(), { pollMs: 100 });
    try {
      const [req] = on(path)(await receiver.waitFor((r) => on(path)(r).length === 1));
      expect(req.headers['webhook-id']).toBe(emitted.event.id);
    } finally {
      await worker.stop();
    }
  });

  it('stop() waits for attempts in flight and leaves no lease behind', async () => {
    const admin = await ctx.newAdmin();
    const { slug, path, endpointId } = await setup(admin);
    const prev = receiver.respond;
    let answered = false;
    receiver.respond = (req, i) => (req.path === path ? { status: 200, delayMs: 400 } : prev(req, i));
    const worker = await startWorker(ctx.services(), { pollMs: 100 });
    try {
      await emitMany(admin, slug, 1);
      await receiver.waitFor((r) => on(path)(r).length === 1);
      answered = true;
    } finally {
      await worker.stop();
      receiver.respond = prev;
    }
    expect(answered).toBe(true);
    const rows = rowsOf<{ state: string; leased_by: string | null }>(await db().execute(sql`SELECT state, leased_by FROM deliveries WHERE endpoint_id = ${endpointId}`));
    expect(rows).toEqual([{ state: 'succeeded', leased_by: null }]);
  });
});
