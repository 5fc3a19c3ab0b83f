/**
 * Shared benchmark helpers. Servers run in child processes (the real CLI, or a bare Fastify
 * route as the baseline) so the load generator does not share an event loop with them.
 * Every result records the machine, and each benchmark reports its ratio to a baseline
 * measured in the same run: on a small noisy machine only ratios compare.
 *
 * A benchmark is bench/<name>.ts exporting `run(opts: BenchOptions)` that resolves to
 * `{ summary: SummaryRow[], ...any detailed figures }`; bench/run.ts writes the JSON and the
 * summary table. Add the name to BENCHMARKS in bench/run.ts. Make the file runnable alone too:
 *   if (process.argv[1]?.endsWith('<name>.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchOptions {
  quick: boolean;
  database: 'pglite' | 'postgres';
}

export interface LoadFigures {
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before ${url} answered`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export interface BenchServer {
  url: string;
  env: Record<string, string>;
  /** Bearer headers of the first admin. */
  adminHeaders: Record<string, string>;
  child: ChildProcess;
  stop(): Promise<void>;
}

let pgliteTemplate: Promise<string> | null = null;

/**
 * One freshly migrated, empty PGlite data directory per run, copied for each PGlite server:
 * PGlite's initdb and the migrations cost several seconds a start, which the quick run cannot spare.
 */
function pgliteTemplateDir(): Promise<string> {
  pgliteTemplate ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bench-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dir, SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/surveybridge.js', 'migrate'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`surveybridge migrate exited with ${code}`))));
    });
    return dir;
  })();
  return pgliteTemplate;
}

/** Starts `surveybridge serve` on a free loopback port with a fresh database (PGlite dir or PostgreSQL schema). */
export async function startServer(opts: { database: 'pglite' | 'postgres'; worker?: boolean; env?: Record<string, string> }): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  if (opts.database === 'pglite') cpSync(await pgliteTemplateDir(), dataDir, { recursive: true });
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    SECRET_KEY: randomBytes(32).toString('base64'),
    ADMIN_EMAIL: 'bench@example.test',
    ADMIN_PASSWORD: 'bench-password-1',
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    CREATE_USER_RATE_LIMIT: '10000000',
    ...(opts.database === 'postgres' ? { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema } : {}),
    ...opts.env,
  };
  const args = ['bin/surveybridge.js', 'serve', ...(opts.worker === false ? ['--no-worker'] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/readyz`, child);
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  return {
    url,
    env,
    adminHeaders: { authorization: `Bearer ${accessToken}` },
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (opts.database === 'postgres') await dropSchema(schema);
    },
  };
}

export async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** Runs autocannon against one URL. `requests` lets each request differ (autocannon's request list). */
export async function autocannonRun(opts: {
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  durationSeconds?: number;
  amount?: number;
  requests?: autocannon.Request[];
}): Promise<LoadFigures> {
  const result = await autocannon({
    url: opts.url,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
    connections: opts.connections ?? 50,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationSeconds ?? 10 }),
    requests: opts.requests,
  });
  return {
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * Quick runs (`npm run bench -- --quick`, set by bench/run.ts) measure each baseline once per
 * run and share it between benchmarks, to stay within the smoke check's time budget.
 */
export const baselineSharing = { withinRun: false };
const sharedBaselines = new Map<string, Promise<LoadFigures>>();

/** The baseline: a bare Fastify route answering small JSON, in a child process, same load. */
export async function bareFastifyBaseline(opts: { connections?: number; durationSeconds?: number }): Promise<LoadFigures> {
  if (!baselineSharing.withinRun) return measureBareFastify(opts);
  const key = `${opts.connections ?? 50}/${opts.durationSeconds ?? 10}`;
  let shared = sharedBaselines.get(key);
  if (!shared) {
    shared = measureBareFastify(opts);
    sharedBaselines.set(key, shared);
    shared.catch(() => sharedBaselines.delete(key));
  }
  return shared;
}

async function measureBareFastify(opts: { connections?: number; durationSeconds?: number }): Promise<LoadFigures> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bareServer.ts', String(port)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitFor(`http://127.0.0.1:${port}/`, child);
    return await autocannonRun({ url: `http://127.0.0.1:${port}/`, connections: opts.connections, durationSeconds: opts.durationSeconds });
  } finally {
    child.kill('SIGKILL');
  }
}

export function machine(database: string) {
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, database };
}

/** Writes bench/results/<name>.json (figures + machine) and returns the path. */
export function writeResult(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, at: new Date().toISOString(), ...data }, null, 2) + '\n');
  return path;
}

export const ratio = (value: number, baseline: number) => (baseline > 0 ? Math.round((value / baseline) * 1000) / 1000 : null);

/** For `npx tsx bench/x.ts [--quick] [--postgres]` runs of a single benchmark. */
export function cliOptions(argv = process.argv.slice(2)): BenchOptions {
  return { quick: argv.includes('--quick'), database: argv.includes('--postgres') ? 'postgres' : 'pglite' };
}

/** A JSON call to the server under test during set-up; a 4xx/5xx answer throws with its body. */
export async function api(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

/** A row of bench/results/summary.md. */
export interface SummaryRow {
  benchmark: string;
  database: string;
  figure: string;
  value: number | string;
  baseline: string;
  baselineValue: number | string;
  ratio: number | string | null;
}
