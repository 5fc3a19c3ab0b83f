/**
 * Crash test: never lose an event. A receiver fails 30 % of requests and delays 10 %; the
 * delivery worker is killed hard (SIGKILL on PostgreSQL, where it is a child process
 * `surveybridge worker`) at least three times mid-run and restarted. At the end every event
 * id was received at least once. PGlite is one process, so there the "crash" is a worker
 * abandoning its claims (leases left to expire) while others carry on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { setupApp, usingPostgres } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { emitEvents, type BulkEventInput } from '../../src/events/outbox.ts';
import { surveyRef } from '../../src/surveys/service.ts';
import { rowsOf } from '../../src/db/client.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';

const EVENTS = Number(process.env.CRASH_TEST_EVENTS ?? (usingPostgres() ? 10_000 : 1_000));
// 20 retries a few hundred ms apart: at a 30 % failure rate, all 21 attempts failing is ~1e-11.
const SCHEDULE = Array(20).fill('0.2').join(',');

describe('webhook delivery survives worker crashes', () => {
  const ctx = setupApp({ env: { WEBHOOK_RETRY_SCHEDULE: SCHEDULE } });
  let receiver: Receiver;
  const seen = new Set<string>();
  let child: ChildProcess | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-crash-'));

  beforeAll(async () => {
    receiver = await startReceiver();
    let i = 0;
    receiver.respond = (req) => {
      i++;
      // Deterministic mix: 3 in 10 fail, 1 in 10 is slow; only successes count as received.
      if (i % 10 < 3) return { status: 500, body: 'flaky' };
      const id = String(req.headers['webhook-id']);
      seen.add(id);
      return i % 10 === 3 ? { status: 200, delayMs: 200 } : { status: 200 };
    };
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function spawnWorker(): ChildProcess {
    const c = ctx.config();
    const proc = spawn(process.execPath, ['bin/surveybridge.js', 'worker'], {
      env: {
        ...process.env,
        DATABASE_URL: c.databaseUrl!,
        DATABASE_SCHEMA: c.databaseSchema,
        SECRET_KEY: c.secretKey.toString('base64'),
        DATA_DIR: dataDir,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE: SCHEDULE,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return proc;
  }

  /** Waits for the outbox to drain (state lives in the database; the log shows when it is done). */
  async function settled(count: () => Promise<number>, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while ((await count()) > 0) {
      if (Date.now() > deadline) throw new Error(`${await count()} deliveries still not succeeded`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function pendingCount(): Promise<number> {
    const rows = rowsOf<{ n: number }>(await ctx.services().database.db.execute(sql`SELECT count(*)::int AS n FROM deliveries WHERE state <> 'succeeded'`));
    return rows[0].n;
  }

  it(`delivers all ${EVENTS} events at least once through repeated crashes`, async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const created = await ctx.inject({
      method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers,
      payload: { url: receiver.url('/crash'), events: ['*'], auth: { type: 'hmac' }, timeoutMs: 1000 },
    });
    expect(created.statusCode).toBe(201);
    const s = ctx.services();
    const survey = surveyRef(await s.surveys.get(admin.accountId, slug));
    const ids = new Set<string>();
    for (let i = 0; i < EVENTS; i += 1000) {
      const batch: BulkEventInput[] = Array.from({ length: Math.min(1000, EVENTS - i) }, (_, k) => ({ type: 'respondent.updated', survey, respondent: { userId: i + k, username: `u${i + k}` }, data: { n: i + k } }));
      const events = await s.database.db.transaction((tx) => emitEvents(tx, s.database.schemaName, batch));
      for (const e of events) ids.add(e.id);
    }
    expect(ids.size).toBe(EVENTS);

    let crashes = 0;
    if (usingPostgres()) {
      for (const fraction of [0.15, 0.4, 0.65]) {
        child = spawnWorker();
        await receiver.waitFor(() => seen.size >= EVENTS * fraction, 120_000);
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
        crashes++;
      }
      child = spawnWorker();
      await receiver.waitFor(() => seen.size >= EVENTS, 120_000);
      // Deliveries a killed worker sent but never recorded come back when their lease expires.
      await settled(pendingCount);
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
      child = null;
    } else {
      let worker: WorkerHandle = await startWorker(s, { pollMs: 100 });
      for (const fraction of [0.15, 0.4, 0.65]) {
        await receiver.waitFor(() => seen.size >= EVENTS * fraction, 120_000);
        // Crash: the leases of claimed-but-unsent deliveries are left to expire.
        await s.database.db.execute(sql`
          UPDATE deliveries SET leased_by = 'worker:crashed', leased_until = now() + interval '1 second'
          WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND leased_by IS NULL ORDER BY event_seq LIMIT 50)`);
        await worker.stop();
        worker = await startWorker(s, { pollMs: 100 });
        crashes++;
      }
      await receiver.waitFor(() => seen.size >= EVENTS, 120_000);
      await settled(pendingCount);
      await worker.stop();
    }
    expect(crashes).toBeGreaterThanOrEqual(3);
    expect(seen.size).toBe(EVENTS);
    expect([...ids].every((id) => seen.has(id))).toBe(true);
    expect(await pendingCount()).toBe(0);
  }, 240_000);
});
