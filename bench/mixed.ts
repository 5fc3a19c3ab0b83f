/**
 * bench/mixed: the traffic of a live study, all at once against one `surveybridge serve`
 * (API + in-process delivery worker): new respondents arriving through create-user, respondents
 * saving answers, respondents submitting, and every resulting event delivered to a local
 * receiver (a child process answering 200 at once, endpoint subscribed to every event).
 * Per step: requests/s and p50/p99 latency while all steps run together; then how long the
 * outbox takes to drain after the load stops, and deliveries/s over the whole window.
 * Baseline: a bare Fastify route under autocannon (50 connections), measured in the same run.
 *   npx tsx bench/mixed.ts [--quick] [--postgres]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { bareFastifyBaseline, cliOptions, ratio, startServer, type BenchOptions, type SummaryRow } from './lib.ts';

const SECRET = 'bench-mixed-create-user-secret-01';

const RECEIVER = `
const http = require('node:http');
let count = 0;
const ids = new Set();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count++;
    ids.add(req.headers['webhook-id']);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => process.send({ count, distinct: ids.size }));
`;

function hs256(claims: Record<string, unknown>): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${head}.${body}.${createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')}`;
}

function askReceiver(child: ChildProcess): Promise<{ count: number; distinct: number }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as { count: number; distinct: number }));
    child.send('report');
  });
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
const round1 = (n: number) => Math.round(n * 10) / 10;

interface StepFigures {
  requests: number;
  errors: number;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/**
 * A closed loop of `connections` workers calling `next()` for the request to send, until
 * `until` passes or `next()` has nothing left. Every answer must have the expected status.
 */
async function loop(
  agent: Agent,
  connections: number,
  until: number,
  next: () => { method: 'GET' | 'PUT' | 'POST'; url: string; headers?: Record<string, string>; body?: string; expect: number } | null,
): Promise<StepFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const started = performance.now();
  let ended = started;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        const req = next();
        if (!req) break;
        const t = performance.now();
        try {
          const res = await request(req.url, { method: req.method, headers: req.headers, body: req.body, dispatcher: agent });
          const text = await res.body.text();
          if (res.statusCode !== req.expect) {
            errors++;
            firstError ||= `${req.method} ${new URL(req.url).pathname} → ${res.statusCode} ${text.slice(0, 120)}`;
          }
        } catch (err) {
          errors++;
          firstError ||= (err as Error).message;
        }
        const now = performance.now();
        latencies.push(now - t);
        ended = Math.max(ended, now);
      }
    }),
  );
  if (errors > 0) process.stdout.write(`  mixed: ${errors} unexpected answers, first: ${firstError}\n`);
  latencies.sort((a, b) => a - b);
  const seconds = Math.max(0.001, (ended - started) / 1000);
  return { requests: latencies.length, errors, requestsPerSec: Math.round(latencies.length / seconds), latencyP50Ms: round1(pct(latencies, 50)), latencyP99Ms: round1(pct(latencies, 99)) };
}

export async function run(opts: BenchOptions) {
  const durationSeconds = opts.quick ? 2 : 15;
  const answerPool = opts.quick ? 30 : 300;
  const submitPool = opts.quick ? 120 : 1000;
  const conns = { createUser: 16, answers: 16, submit: 8 };
  const receiver = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const receiverPort = await new Promise<number>((resolve) => receiver.once('message', (m) => resolve((m as { port: number }).port)));
  const server = await startServer({ database: opts.database, worker: true });
  const agent = new Agent({ connections: 64, pipelining: 1 });
  const steps: Record<string, StepFigures> = {};
  let drain = { events: 0, distinct: 0, drainAfterLoadSeconds: 0, deliveriesPerSec: 0 };
  try {
    const base = server.url;
    const admin = { ...server.adminHeaders, 'content-type': 'application/json' };
    const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const res = await request(base + path, { method: method as 'GET', headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode >= 400) throw new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    };
    const slug = `bench-mixed-${Date.now().toString(36)}`;
    await call('POST', '/api/admin/surveys', admin, { slug, name: 'Mixed bench', state: 'active', allowUserGeneration: true, jwtSecret: SECRET });
    await call('PUT', `/api/admin/surveys/${slug}/definition`, admin, {
      questions: [{ id: 'q1', type: 'text', label: 'How was it?' }, { id: 'q2', type: 'text', label: 'Anything else?' }],
    });
    await call('POST', `/api/admin/surveys/${slug}/webhooks`, admin, { url: `http://127.0.0.1:${receiverPort}/hook`, events: ['*'], auth: { type: 'hmac' } });

    // Respondents for the answer and submit steps, arriving the way panels send them.
    const run = randomBytes(4).toString('hex');
    const signIn = async (user: string) => {
      const created = await call('GET', `/api/surveys/${slug}/create-user?params=${hs256({ user, redirect: 'https://panel.example/back' })}`, {});
      const { accessToken } = await call('POST', `/api/surveys/${slug}/auth`, {}, { token: created.authToken });
      return { authorization: `Bearer ${accessToken as string}`, 'content-type': 'application/json' };
    };
    const prepare = async (prefix: string, n: number) => {
      const out: Record<string, string>[] = [];
      for (let i = 0; i < n; i += 20) out.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) => signIn(`${prefix}-${run}-${i + k}`)))));
      return out;
    };
    const answering = await prepare('a', answerPool);
    const submitting = await prepare('s', submitPool);
    // Drain the set-up's events first, so the window measures the mixed traffic only.
    await outboxEmpty(base, 120_000);
    const before = await askReceiver(receiver);

    const started = Date.now();
    const until = started + durationSeconds * 1000;
    let n = 0;
    let a = 0;
    let s = 0;
    const [createUser, answers, submit] = await Promise.all([
      loop(agent, conns.createUser, until, () => ({ method: 'GET', url: `${base}/api/surveys/${slug}/create-user?params=${hs256({ user: `m-${run}-${n++}`, redirect: 'https://panel.example/back' })}`, expect: 200 })),
      loop(agent, conns.answers, until, () => {
        const i = a++;
        return { method: 'PUT', url: `${base}/api/surveys/${slug}/session/answers`, headers: answering[i % answering.length], body: JSON.stringify({ answers: { q1: `answer ${i}`, q2: i % 2 ? 'yes' : 'no' } }), expect: 200 };
      }),
      loop(agent, conns.submit, until, () => (s < submitting.length ? { method: 'POST', url: `${base}/api/surveys/${slug}/session/submit`, headers: submitting[s++], body: '{}', expect: 200 } : null)),
    ]);
    steps['create-user (new user)'] = createUser;
    steps['save answers'] = answers;
    steps.submit = submit;
    const loadEnded = Date.now();
    await outboxEmpty(base, 300_000);
    const drained = Date.now();
    const after = await askReceiver(receiver);
    drain = {
      events: after.count - before.count,
      distinct: after.distinct - before.distinct,
      drainAfterLoadSeconds: round1((drained - loadEnded) / 1000),
      deliveriesPerSec: Math.round((after.count - before.count) / ((drained - started) / 1000)),
    };
  } finally {
    await agent.close().catch(() => {});
    await server.stop();
    receiver.kill('SIGKILL');
  }
  const baseline = await bareFastifyBaseline({ connections: 50, durationSeconds: opts.quick ? 2 : 10 });
  const db = opts.database;
  const summary: SummaryRow[] = [];
  for (const [name, f] of Object.entries(steps)) {
    summary.push(
      { benchmark: 'mixed', database: db, figure: `${name}: req/s (all steps at once)`, value: f.requestsPerSec, baseline: 'bare Fastify route req/s', baselineValue: baseline.requestsPerSec, ratio: ratio(f.requestsPerSec, baseline.requestsPerSec) },
      { benchmark: 'mixed', database: db, figure: `${name}: p50 / p99 ms`, value: `${f.latencyP50Ms} / ${f.latencyP99Ms}`, baseline: 'bare Fastify p50 / p99 ms', baselineValue: `${baseline.latencyP50Ms} / ${baseline.latencyP99Ms}`, ratio: ratio(f.latencyP99Ms, baseline.latencyP99Ms) },
    );
  }
  const total = Object.values(steps).reduce((t, f) => t + f.requestsPerSec, 0);
  summary.push(
    { benchmark: 'mixed', database: db, figure: 'all steps: req/s', value: total, baseline: 'bare Fastify route req/s', baselineValue: baseline.requestsPerSec, ratio: ratio(total, baseline.requestsPerSec) },
    { benchmark: 'mixed', database: db, figure: `deliveries/s (${drain.events} events, drained ${drain.drainAfterLoadSeconds} s after the load)`, value: drain.deliveriesPerSec, baseline: '', baselineValue: '', ratio: null },
  );
  const errors = Object.values(steps).reduce((t, f) => t + f.errors, 0);
  if (errors > 0) throw new Error(`${errors} requests answered an unexpected status`);
  return { summary, durationSeconds, connections: conns, steps, deliveries: drain, bareFastify: baseline };
}

/** Waits until /metrics shows no pending delivery. */
async function outboxEmpty(base: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const m = /^outbox_depth (\d+)/m.exec(text);
    if (m && Number(m[1]) === 0) return;
    if (Date.now() > deadline) throw new Error(`outbox not drained within ${timeoutMs} ms (${m?.[1]} pending)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (process.argv[1]?.endsWith('mixed.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
