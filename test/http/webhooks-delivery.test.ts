import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { startReceiver, type ReceivedRequest, type Receiver, type Reply } from '../helpers/webhookReceiver.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { emitEvent, type EventType } from '../../src/events/outbox.ts';
import { surveyRef } from '../../src/surveys/service.ts';

// Nine retries 50 ms apart: the whole schedule runs in well under a second.
const SCHEDULE = Array(9).fill('0.05').join(',');

describe('webhook delivery: retries, failures, log, retry and replay', () => {
  const ctx = setupApp({ env: { WEBHOOK_RETRY_SCHEDULE: SCHEDULE } });
  let receiver: Receiver;
  let worker: WorkerHandle;
  /** Per path, the answers to give in turn (the last one repeats). */
  const scripts = new Map<string, Reply[]>();
  let counter = 0;

  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.respond = (req) => {
      const script = scripts.get(req.path.split('?')[0]);
      if (!script) return { status: 200, body: 'ok' };
      const seen = receiver.requests.filter((r) => r.path === req.path).length - 1;
      return script[Math.min(seen, script.length - 1)];
    };
    worker = await startWorker(ctx.services(), { pollMs: 200 });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  const base = (slug: string) => `/api/admin/surveys/${slug}/webhooks`;
  const on = (path: string) => (r: ReceivedRequest[]) => r.filter((x) => x.path === path);
  async function endpoint(admin: TestAdmin, slug: string, script: Reply[], extra: Record<string, unknown> = {}) {
    const path = `/p${counter++}`;
    scripts.set(path, script);
    const res = await ctx.inject({ method: 'POST', url: base(slug), headers: admin.headers, payload: { url: receiver.url(path), events: ['*'], auth: { type: 'none' }, ...extra } });
    expect(res.statusCode).toBe(201);
    return { id: res.json().id as string, path };
  }
  /** Emits like a request that runs sync hooks inline after commit (`inline: false`: like respondent creation). */
  async function emit(slug: string, admin: TestAdmin, type: EventType = 'respondent.updated', inline = true) {
    const s = ctx.services();
    const row = await s.surveys.get(admin.accountId, slug);
    return s.database.db.transaction((tx) => emitEvent(tx, s.database.schemaName, { type, inline, survey: surveyRef(row), respondent: { userId: 1, username: 'bob' }, data: {} }));
  }
  async function deliveries(admin: TestAdmin, slug: string, endpointId: string, query = '') {
    const res = await ctx.inject({ method: 'GET', url: `${base(slug)}/${endpointId}/deliveries${query}`, headers: admin.headers });
    expect(res.statusCode).toBe(200);
    return res.json().items as { id: string; state: string; eventId: string; eventType: string; attemptCount: number; nextAttemptAt: string | null }[];
  }
  async function detail(admin: TestAdmin, slug: string, id: string) {
    return (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/deliveries/${id}`, headers: admin.headers })).json();
  }
  /** Waits until the delivery log shows what the test expects (attempts are recorded just after the receiver answers). */
  async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('retries network-level failures, 3xx, 408, 429 and 5xx with the same webhook-id, never following redirects', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [
      { status: 500, body: 'boom' },
      { status: 302, headers: { location: receiver.url('/redirect-target') } },
      { status: 408 },
      { status: 429 },
      { status: 503 },
      { status: 200, body: 'finally' },
    ]);
    const { event } = await emit(slug, admin);
    const reqs = on(ep.path)(await receiver.waitFor((r) => on(ep.path)(r).length >= 6));
    expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
    const [d] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'succeeded');
    expect(d).toMatchObject({ eventId: event.id, attemptCount: 6, nextAttemptAt: null });
    const full = await detail(admin, slug, d.id);
    expect(full.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 302, 408, 429, 503, 200]);
    expect(full.attempts[0].responseExcerpt).toBe('boom');
    expect(full.attempts[5].responseExcerpt).toBe('finally');
    expect(receiver.requests.some((r) => r.path === '/redirect-target')).toBe(false);
  });

  it('gives up after 10 attempts in all', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 500 }]);
    await emit(slug, admin);
    const [d] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'failed');
    expect(d.attemptCount).toBe(10);
    expect(on(ep.path)(receiver.requests)).toHaveLength(10);
    const got = (await ctx.inject({ method: 'GET', url: `${base(slug)}/${ep.id}`, headers: admin.headers })).json();
    expect(got.failingSince).toBeTruthy();
    expect(got.enabled).toBe(true);
  });

  it('fails other 4xx at once, and disables the endpoint on 410', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const bad = await endpoint(admin, slug, [{ status: 400, body: 'no' }]);
    const gone = await endpoint(admin, slug, [{ status: 410 }]);
    await emit(slug, admin);
    await until(() => deliveries(admin, slug, bad.id), (items) => items[0]?.state === 'failed');
    expect((await deliveries(admin, slug, bad.id))[0].attemptCount).toBe(1);
    await until(() => deliveries(admin, slug, gone.id), (items) => items[0]?.state === 'failed');
    const ep = (await ctx.inject({ method: 'GET', url: `${base(slug)}/${gone.id}`, headers: admin.headers })).json();
    expect(ep).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' });
    // A disabled endpoint gets no new deliveries.
    await emit(slug, admin);
    expect(await deliveries(admin, slug, gone.id)).toHaveLength(1);
  });

  it('honours Retry-After, stored as the next attempt time', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 503, headers: { 'retry-after': '3600' } }]);
    await emit(slug, admin);
    const [d] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.attemptCount === 1);
    const at = Date.parse((await detail(admin, slug, d.id)).attempts[0].at);
    const next = Date.parse(d.nextAttemptAt!);
    expect(next - at).toBeGreaterThanOrEqual(3590_000);
    expect(next - at).toBeLessThanOrEqual(3700_000);
  });

  it('times out a slow receiver and keeps 4 KB of a large answer', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 200, delayMs: 3000 }, { status: 200, body: 'x'.repeat(100_000) }], { timeoutMs: 300 });
    await emit(slug, admin);
    const [d] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'succeeded');
    const full = await detail(admin, slug, d.id);
    expect(full.attempts[0]).toMatchObject({ statusCode: null, error: 'timed out after 300 ms' });
    expect(full.attempts[1].responseExcerpt).toHaveLength(4096);
  });

  it('disables an endpoint that has only failed for 5 days', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 500 }]);
    await ctx.services().database.db.execute(sql`UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 hour' WHERE id = ${ep.id}`);
    await emit(slug, admin);
    const got = await until(
      async () => (await ctx.inject({ method: 'GET', url: `${base(slug)}/${ep.id}`, headers: admin.headers })).json(),
      (e) => e.enabled === false,
    );
    expect(got.disabledReason).toBe('every attempt failed for 5 days');
    // Re-enabling starts a fresh window; the pending delivery is then sent.
    scripts.set(ep.path, [{ status: 200 }]);
    await ctx.inject({ method: 'PATCH', url: `${base(slug)}/${ep.id}`, headers: admin.headers, payload: { enabled: true } });
    await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'succeeded');
  });

  it('retries one delivery and replays a time range on request, with the same webhook-id', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 422 }, { status: 200 }]);
    const since = new Date(Date.now() - 1000).toISOString();
    const { event } = await emit(slug, admin, 'session.exited');
    const [failed] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'failed');
    const retried = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/deliveries/${failed.id}/retry`, headers: admin.headers });
    expect(retried.statusCode).toBe(202);
    await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'succeeded');

    await emit(slug, admin, 'session.started');
    await until(() => deliveries(admin, slug, ep.id, '?status=succeeded'), (items) => items.length === 2);
    expect((await deliveries(admin, slug, ep.id, '?eventType=session.exited')).map((d) => d.eventId)).toEqual([event.id]);
    const before = on(ep.path)(receiver.requests).length;
    const replay = await ctx.inject({ method: 'POST', url: `${base(slug)}/${ep.id}/replay`, headers: admin.headers, payload: { since, status: 'succeeded' } });
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toEqual({ replayed: 2 });
    const reqs = on(ep.path)(await receiver.waitFor((r) => on(ep.path)(r).length >= before + 2));
    expect(reqs.slice(before).map((r) => r.headers['webhook-id'])).toContain(event.id);

    const badRange = await ctx.inject({ method: 'POST', url: `${base(slug)}/${ep.id}/replay`, headers: admin.headers, payload: { since, until: since } });
    expect(badRange.statusCode).toBe(400);
    for (const bad of [
      { method: 'POST' as const, url: `${base(slug)}/${ep.id}/replay`, payload: { since: 'yesterday' } },
      { method: 'POST' as const, url: `${base(slug)}/${ep.id}/replay`, payload: { since, status: 'weird' } },
      { method: 'GET' as const, url: `${base(slug)}/${ep.id}/deliveries?since=not-a-date` },
      { method: 'GET' as const, url: `${base(slug)}/${ep.id}/deliveries?since=0000-01-01T00:00:00Z` },
      { method: 'POST' as const, url: `${base(slug)}/${ep.id}/replay`, payload: { since: '0000-01-01T00:00:00Z' } },
      { method: 'GET' as const, url: `${base(slug)}/${ep.id}/deliveries?cursor=garbage!` },
      { method: 'GET' as const, url: `${base(slug)}/${ep.id}/deliveries?status=nope` },
      { method: 'GET' as const, url: `/api/admin/surveys/${slug}/deliveries/not-a-uuid` },
      { method: 'POST' as const, url: `/api/admin/surveys/${slug}/deliveries/00000000-0000-4000-8000-000000000000/retry` },
    ]) {
      const res = await ctx.inject({ ...bad, headers: admin.headers });
      expect(res.statusCode, `${bad.method} ${bad.url}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${bad.method} ${bad.url}`).toBeLessThan(500);
    }
    const other = await ctx.newAdmin();
    const otherSlug = await ctx.newSurvey(other);
    const hidden = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${otherSlug}/deliveries/${failed.id}`, headers: other.headers });
    expect(hidden.json().error.code).toBe('DELIVERY_NOT_FOUND');
  });

  it('runs sync hooks inline after commit; a failed one stays in the log and can be re-sent', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ok = await endpoint(admin, slug, [{ status: 200 }], { mode: 'sync', events: ['record.inserted'], timeoutMs: 2000 });
    const failing = await endpoint(admin, slug, [{ status: 400, body: 'rejected' }, { status: 200 }], { mode: 'sync', events: ['record.inserted'], timeoutMs: 2000 });
    const emitted = await emit(slug, admin, 'record.inserted');
    expect(emitted.syncDeliveryIds).toHaveLength(2);
    const hooks = await ctx.services().webhooks.runSyncDeliveries(emitted.syncDeliveryIds);
    const byEndpoint = new Map(hooks.map((h) => [h.endpointId, h]));
    expect(byEndpoint.get(ok.id)).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(byEndpoint.get(failing.id)).toMatchObject({ ok: false, statusCode: 400 });
    const [logged] = await deliveries(admin, slug, failing.id);
    expect(logged.state).toBe('failed');
    const survey = await ctx.services().surveys.get(admin.accountId, slug);
    const again = await ctx.services().webhooks.resendInline(survey.id, logged.id);
    expect(again).toMatchObject({ ok: true, statusCode: 200 });
    // Asking twice for the same inline attempt does not send twice.
    const twice = await ctx.services().webhooks.runSyncDeliveries([emitted.syncDeliveryIds[0]]);
    expect(twice[0].ok).toBe(false);
    expect(on(ok.path)(receiver.requests)).toHaveLength(1);
  });

  it('leaves sync endpoints to the worker at once when the caller does not run hooks inline', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 200 }], { mode: 'sync', events: ['respondent.created'], timeoutMs: 2000 });
    const emitted = await emit(slug, admin, 'respondent.created', false);
    expect(emitted.syncDeliveryIds).toEqual([]);
    // Not reserved for an inline attempt: the worker running in this file sends it at once.
    const [d] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'succeeded');
    expect(d.eventType).toBe('respondent.created');
    expect(on(ep.path)(receiver.requests)).toHaveLength(1);
  });

  it('retries a sync hook that failed with a retryable answer in the background', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await endpoint(admin, slug, [{ status: 503 }, { status: 200 }], { mode: 'sync', events: ['record.updated'], timeoutMs: 2000 });
    const emitted = await emit(slug, admin, 'record.updated');
    const [hook] = await ctx.services().webhooks.runSyncDeliveries(emitted.syncDeliveryIds);
    expect(hook).toMatchObject({ endpointId: ep.id, ok: false, statusCode: 503 });
    const [d] = await until(() => deliveries(admin, slug, ep.id), (items) => items[0]?.state === 'succeeded');
    expect(d.attemptCount).toBe(2);
  });

  it('counts deliveries and attempt latency in /metrics', async () => {
    const res = await ctx.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/webhook_deliveries_total\{result="succeeded"\} \d+/);
    expect(res.body).toContain('webhook_attempt_duration_seconds_bucket');
  });
});
