/**
 * bench/create-user: `GET /api/surveys/{slug}/create-user?params={jwt}` under autocannon
 * (50 connections), two ways: a new user on every request (INSERT … ON CONFLICT creates the
 * row, its token and its respondent.created event) and one user repeated (the row exists:
 * the same userId and authToken come back). Compared with a bare Fastify route measured in
 * the same run. Tokens are HS256, signed in the load generator as requests go out.
 *   npx tsx bench/create-user.ts [--quick] [--postgres]
 */
import { createHmac, randomBytes } from 'node:crypto';
import { autocannonRun, bareFastifyBaseline, cliOptions, ratio, startServer, type BenchOptions, type SummaryRow } from './lib.ts';

const SECRET = 'bench-create-user-secret-0001';

function hs256(claims: Record<string, unknown>): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${head}.${body}.${createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')}`;
}

export async function run(opts: BenchOptions) {
  const durationSeconds = opts.quick ? 2 : 10;
  const connections = 50;
  const server = await startServer({ database: opts.database, worker: false, env: { CREATE_USER_RATE_LIMIT: '10000000' } });
  let fresh;
  let repeated;
  let created = 0;
  try {
    const slug = `bench-cu-${Date.now().toString(36)}`;
    const res = await fetch(`${server.url}/api/admin/surveys`, {
      method: 'POST',
      headers: { ...server.adminHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ slug, name: 'Create-user bench', state: 'active', allowUserGeneration: true, jwtSecret: SECRET }),
    });
    if (res.status !== 201) throw new Error(`survey: ${res.status} ${await res.text()}`);
    const path = `/api/surveys/${slug}/create-user?params=`;
    const run = randomBytes(4).toString('hex');

    // A check first: the measured answer is the documented one.
    const check = await fetch(`${server.url}${path}${hs256({ user: `check-${run}`, redirect: 'https://panel.example/back' })}`);
    const body = (await check.json()) as { userId?: number; authToken?: string };
    if (check.status !== 200 || typeof body.userId !== 'number' || !body.authToken) throw new Error(`create-user answered ${check.status}`);

    let n = 0;
    fresh = await autocannonRun({
      url: server.url,
      connections,
      durationSeconds,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path + hs256({ user: `u-${run}-${n++}`, redirect: 'https://panel.example/back' }) }) }],
    });
    created = n;
    const same = hs256({ user: `repeat-${run}`, redirect: 'https://panel.example/back' });
    repeated = await autocannonRun({ url: `${server.url}${path}${same}`, connections, durationSeconds });
  } finally {
    await server.stop();
  }
  const baseline = await bareFastifyBaseline({ connections, durationSeconds });
  const db = opts.database;
  const summary: SummaryRow[] = [
    { benchmark: 'create-user', database: db, figure: 'new user per request: req/s', value: fresh.requestsPerSec, baseline: 'bare Fastify route req/s', baselineValue: baseline.requestsPerSec, ratio: ratio(fresh.requestsPerSec, baseline.requestsPerSec) },
    { benchmark: 'create-user', database: db, figure: 'new user per request: p50 / p99 ms', value: `${fresh.latencyP50Ms} / ${fresh.latencyP99Ms}`, baseline: 'bare Fastify p50 / p99 ms', baselineValue: `${baseline.latencyP50Ms} / ${baseline.latencyP99Ms}`, ratio: ratio(fresh.latencyP99Ms, baseline.latencyP99Ms) },
    { benchmark: 'create-user', database: db, figure: 'repeated user: req/s', value: repeated.requestsPerSec, baseline: 'bare Fastify route req/s', baselineValue: baseline.requestsPerSec, ratio: ratio(repeated.requestsPerSec, baseline.requestsPerSec) },
    { benchmark: 'create-user', database: db, figure: 'repeated user: p50 / p99 ms', value: `${repeated.latencyP50Ms} / ${repeated.latencyP99Ms}`, baseline: 'bare Fastify p50 / p99 ms', baselineValue: `${baseline.latencyP50Ms} / ${baseline.latencyP99Ms}`, ratio: ratio(repeated.latencyP99Ms, baseline.latencyP99Ms) },
  ];
  return {
    summary,
    connections,
    durationSeconds,
    newUserPerRequest: { ...fresh, ratioToBare: ratio(fresh.requestsPerSec, baseline.requestsPerSec), usersSigned: created },
    repeatedUser: { ...repeated, ratioToBare: ratio(repeated.requestsPerSec, baseline.requestsPerSec) },
    bareFastify: baseline,
  };
}

if (process.argv[1]?.endsWith('create-user.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
