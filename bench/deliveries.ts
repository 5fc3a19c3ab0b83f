/**
 * bench/deliveries: how fast the outbox drains to a local receiver that answers 200 at once,
 * against a raw undici POST loop to the same receiver with the same concurrency (the ceiling
 * of any sender), measured in the same run; and event-to-first-attempt latency at a light
 * steady rate. The receiver runs in a child process so it does not share our event loop.
 * Events are written straight to the outbox (what every domain's transaction does); the
 * worker is the real one, in this process, with its default settings.
 *   npx tsx bench/deliveries.ts [--quick] [--postgres]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { POSTGRES_URL, cliOptions, dropSchema, ratio, type BenchOptions, type SummaryRow } from './lib.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/lib/logger.ts';
import { createServices, type Services } from '../src/services.ts';
import { emitEvent, emitEvents, type BulkEventInput } from '../src/events/outbox.ts';
import { surveyRef } from '../src/surveys/service.ts';
import { startWorker } from '../src/worker/index.ts';
import type { EndpointCreate } from '../src/webhooks/schemas.ts';

/** The receiver child: answers 200 at once, remembers when each webhook-id arrived. */
const RECEIVER = `
const http = require('node:http');
const arrivals = new Map();
let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count++;
    const id = req.headers['webhook-id'];
    if (id && !arrivals.has(id)) arrivals.set(id, Date.now());
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'report') process.send({ count, arrivals: [...arrivals] });
  if (m === 'reset') { count = 0; arrivals.clear(); process.send({ ok: true }); }
});
`;

function ask(child: ChildProcess, msg: string): Promise<{ count: number; arrivals: [string, number][] }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as { count: number; arrivals: [string, number][] }));
    child.send(msg);
  });
}

async function waitCount(child: ChildProcess, n: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ask(child, 'report');
    if (r.count >= n) return r;
    if (Date.now() > deadline) throw new Error(`only ${r.count} of ${n} deliveries arrived within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Raw undici POST loop: `count` requests, `concurrency` at a time, the same kind of body. */
async function rawBaseline(url: string, count: number, concurrency: number, body: string) {
  const agent = new Agent({ connections: 128 });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': randomBytes(8).toString('hex') }, dispatcher: agent });
        await res.body.text();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return Math.round(count / seconds);
}

export async function run(opts: BenchOptions) {
  const count = opts.quick ? 1000 : 5000;
  const steadyRate = 20;
  const steadySeconds = opts.quick ? 2 : 10;
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-deliveries-'));
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    SECRET_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...(opts.database === 'postgres' ? { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema } : {}),
  });
  const receiver = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => receiver.once('message', (m) => resolve((m as { port: number }).port)));
  const url = `http://127.0.0.1:${port}/hook`;
  let services: Services | null = null;
  try {
    services = await createServices(config, createLogger('warn'), { pgliteInMemory: true });
    await services.database.migrate();
    const s = services;
    const user = await s.accounts.createUser({ email: 'bench@example.test', password: 'bench-password', role: 'owner', accountName: 'bench' });
    const slug = `bench-${randomBytes(3).toString('hex')}`;
    await s.surveys.create(user.accountId, { slug, name: 'Deliveries bench' });
    // hmac: the signed default, so the figure includes signing.
    await s.webhooks.endpoints.create(user.accountId, slug, { url, events: ['*'] as EndpointCreate['events'], auth: { type: 'hmac' } });
    const survey = surveyRef(await s.surveys.get(user.accountId, slug));
    const data = { answers: [{ questionId: 'q1', label: 'How was it?', value: 'fine' }], outcome: 'completed' };

    // Throughput: a backlog of `count` events, then the worker drains it.
    const inputs: BulkEventInput[] = Array.from({ length: count }, (_, i) => ({ type: 'submission.completed', survey, respondent: { userId: i, username: `r${i}` }, data }));
    for (let i = 0; i < inputs.length; i += 500) {
      await s.database.db.transaction((tx) => emitEvents(tx, s.database.schemaName, inputs.slice(i, i + 500)));
    }
    const started = performance.now();
    const worker = await startWorker(s);
    await waitCount(receiver, count, 600_000);
    const drainSeconds = (performance.now() - started) / 1000;
    const deliveriesPerSec = Math.round(count / drainSeconds);

    // Latency: one event per transaction at a light steady rate, worker idle in between.
    await ask(receiver, 'reset');
    const emittedAt = new Map<string, number>();
    const total = steadyRate * steadySeconds;
    for (let i = 0; i < total; i++) {
      const t = Date.now();
      const { event } = await s.database.db.transaction((tx) => emitEvent(tx, s.database.schemaName, { type: 'session.started', survey, respondent: { userId: i, username: `l${i}` }, data: {} }));
      emittedAt.set(event.id, t);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / steadyRate - (Date.now() - t))));
    }
    const report = await waitCount(receiver, total, 60_000);
    await worker.stop();
    const latencies = report.arrivals.filter(([id]) => emittedAt.has(id)).map(([id, at]) => at - emittedAt.get(id)!).sort((a, b) => a - b);
    const p50 = pct(latencies, 50);
    const p99 = pct(latencies, 99);

    const body = JSON.stringify({ id: 'x', type: 'submission.completed', survey, data });
    const rawPerSec = await rawBaseline(url, count, 64, body);
    const summary: SummaryRow[] = [
      { benchmark: 'deliveries', database: opts.database, figure: 'deliveries/s (backlog drain)', value: deliveriesPerSec, baseline: 'raw undici POST loop, 64 concurrent', baselineValue: rawPerSec, ratio: ratio(deliveriesPerSec, rawPerSec) },
      { benchmark: 'deliveries', database: opts.database, figure: `event→first attempt p50 ms (${steadyRate}/s)`, value: p50, baseline: '', baselineValue: '', ratio: null },
      { benchmark: 'deliveries', database: opts.database, figure: `event→first attempt p99 ms (${steadyRate}/s)`, value: p99, baseline: '', baselineValue: '', ratio: null },
    ];
    return { summary, count, drainSeconds, deliveriesPerSec, rawPerSec, latency: { rate: steadyRate, events: latencies.length, p50Ms: p50, p99Ms: p99 } };
  } finally {
    await services?.close();
    receiver.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    if (opts.database === 'postgres') await dropSchema(schema).catch(() => {});
  }
}

if (process.argv[1]?.endsWith('deliveries.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
