/**
 * Retention: the worker deletes delivery attempts and finished deliveries older than
 * RETENTION_DAYS, in batches; pending deliveries and recent rows stay, and so do events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { setupApp } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { startWorker } from '../../src/worker/index.ts';
import { emitEvent } from '../../src/events/outbox.ts';
import { surveyRef } from '../../src/surveys/service.ts';
import { rowsOf } from '../../src/db/client.ts';

describe('retention of attempts and finished deliveries', () => {
  const ctx = setupApp({ env: { RETENTION_DAYS: '7' } });
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const db = () => ctx.services().database.db;
  const n = async (q: ReturnType<typeof sql>) => rowsOf<{ n: number }>(await db().execute(q))[0].n;

  /** An endpoint with `count` delivered events; returns the endpoint id and the event ids. */
  async function delivered(count: number, path: string) {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url: receiver.url(path), events: ['*'], auth: { type: 'none' } } });
    expect(res.statusCode).toBe(201);
    const s = ctx.services();
    const survey = surveyRef(await s.surveys.get(admin.accountId, slug));
    for (let i = 0; i < count; i++) {
      await s.database.db.transaction((tx) => emitEvent(tx, s.database.schemaName, { type: 'respondent.updated', survey, respondent: { userId: i, username: `u${i}` }, data: { i } }));
    }
    const endpointId = res.json().id as string;
    const worker = await startWorker(s, { pollMs: 100 });
    try {
      await receiver.waitFor((r) => r.filter((x) => x.path === path).length >= count, 60_000);
      const deadline = Date.now() + 60_000;
      while ((await n(sql`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = ${endpointId} AND state = 'succeeded'`)) < count) {
        if (Date.now() > deadline) throw new Error('deliveries not recorded as succeeded');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.stop();
    }
    return endpointId;
  }

  /** Moves an endpoint's deliveries and attempts `days` into the past. */
  async function age(endpointId: string, days: number) {
    await db().execute(sql`UPDATE delivery_attempts SET at = at - make_interval(days => ${days}) WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = ${endpointId})`);
    await db().execute(sql`UPDATE deliveries SET completed_at = completed_at - make_interval(days => ${days}), next_attempt_at = next_attempt_at - make_interval(days => ${days}), created_at = created_at - make_interval(days => ${days}) WHERE endpoint_id = ${endpointId}`);
  }

  const rowsOfEndpoint = async (endpointId: string) => ({
    deliveries: await n(sql`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = ${endpointId}`),
    attempts: await n(sql`SELECT count(*)::int AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = ${endpointId}`),
  });

  it('purge deletes in batches only what is older than the retention period', async () => {
    const old = await delivered(7, '/old');
    const recent = await delivered(3, '/recent');
    await age(old, 8);
    await age(recent, 6);
    const eventsBefore = await n(sql`SELECT count(*)::int AS n FROM events`);
    // A pending delivery, however old, is never deleted.
    await db().execute(sql`UPDATE deliveries SET state = 'pending', completed_at = NULL, next_attempt_at = now() + interval '1 day' WHERE id = (SELECT id FROM deliveries WHERE endpoint_id = ${old} LIMIT 1)`);

    const batches: number[] = [];
    const deleted = await ctx.services().webhooks.store.purge(7, { batchSize: 2, keepGoing: () => (batches.push(1), true) });
    expect(deleted).toEqual({ attempts: 7, deliveries: 6 });
    expect(batches.length).toBeGreaterThanOrEqual(3); // 6 deliveries, 2 at a time
    expect(await rowsOfEndpoint(old)).toEqual({ deliveries: 1, attempts: 0 });
    expect(await rowsOfEndpoint(recent)).toEqual({ deliveries: 3, attempts: 3 });
    expect(await n(sql`SELECT count(*)::int AS n FROM events`)).toBe(eventsBefore);
    await db().execute(sql`DELETE FROM deliveries WHERE endpoint_id = ${old}`);
  });

  it('the worker runs the clean-up with RETENTION_DAYS when it starts', async () => {
    const old = await delivered(4, '/old2');
    const recent = await delivered(2, '/recent2');
    await age(old, 30);
    await age(recent, 1);
    const worker = await startWorker(ctx.services(), { pollMs: 100 });
    try {
      const deadline = Date.now() + 60_000;
      while ((await rowsOfEndpoint(old)).deliveries > 0) {
        if (Date.now() > deadline) throw new Error('the worker did not purge old deliveries');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.stop();
    }
    expect(await rowsOfEndpoint(old)).toEqual({ deliveries: 0, attempts: 0 });
    expect(await rowsOfEndpoint(recent)).toEqual({ deliveries: 2, attempts: 2 });
  });
});
