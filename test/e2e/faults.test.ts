/**
 * Fault tests.
 * - The receiver is down (connection refused) for the whole traffic, then comes back: every
 *   delivery goes through once it returns (short WEBHOOK_RETRY_SCHEDULE). In-process app and
 *   worker: runs on PGlite and on PostgreSQL.
 * - PostgreSQL only (a real API process): `serve` killed with SIGKILL in the middle of a CSV
 *   import's write: the import is wholly present or wholly absent afterwards, with its events,
 *   and importing the file again after a restart gives exactly one copy. (PGlite is one process
 *   in the same address space as the test; the import's single transaction is covered there by
 *   test/http/import.test.ts.) The file's test list is chosen at collection time.
 * - PostgreSQL stopped and started again during traffic: on a private PostgreSQL server this
 *   file starts itself (initdb + pg_ctl as the postgres user, on a free port), never the shared
 *   one CI's other test files use. Requests during the outage answer 503 DATABASE_UNAVAILABLE
 *   (never 500, never a hang past the request timeout); everything acknowledged with 2xx is
 *   there afterwards and its events are delivered. Runs with DATABASE_URL set (the PostgreSQL
 *   suite), where the server binaries are installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { dropSchema, setupApp, usingPostgres } from '../helpers/app.ts';
import { freePort, startCli, type RunningServer } from '../helpers/cli.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { rowsOf } from '../../src/db/client.ts';

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// 60 retries about half a second apart: the endpoint stays retrying for ~30 s at least.
const SCHEDULE = Array(60).fill('0.5').join(',');

describe('receiver down for the whole traffic, then back', () => {
  const ctx = setupApp({ env: { WEBHOOK_RETRY_SCHEDULE: SCHEDULE } });
  let worker: WorkerHandle | null = null;
  let server: Server | null = null;
  afterAll(async () => {
    await worker?.stop();
    if (server) await new Promise<void>((r) => { server!.closeAllConnections(); server!.close(() => r()); });
  });

  it('every delivery goes through once the receiver returns', async () => {
    const port = await freePort(); // nothing listens there yet: connection refused
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url: `http://127.0.0.1:${port}/back`, events: ['*'], auth: { type: 'hmac' }, timeoutMs: 2000 } });
    expect(ep.statusCode).toBe(201);
    const endpointId = ep.json().id as string;
    worker = await startWorker(ctx.services(), { pollMs: 100 });

    // Traffic while the receiver is down: respondents created, one updated, one deleted.
    for (let i = 0; i < 12; i++) {
      const r = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: `down-${i}` } });
      expect(r.statusCode).toBe(201);
    }
    expect((await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}/respondents/down-0`, headers: admin.headers, payload: { name: 'Changed' } })).statusCode).toBe(200);
    const db = ctx.services().database.db;
    const eventIds = rowsOf<{ id: string }>(await db.execute(sql`SELECT e.id::text AS id FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${slug}`)).map((r) => r.id);
    expect(eventIds.length).toBeGreaterThanOrEqual(13);

    // Every delivery has failed at least twice, and none has given up.
    const stats = async () => rowsOf<{ total: number; retried: number; pending: number; succeeded: number }>(await db.execute(sql`
      SELECT count(*)::int AS total, count(*) FILTER (WHERE attempts >= 2)::int AS retried,
             count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'succeeded')::int AS succeeded
      FROM deliveries WHERE endpoint_id = ${endpointId}`))[0];
    await waitUntil(async () => (await stats()).retried === eventIds.length, 'every delivery to fail twice', 90_000);
    expect(await stats()).toMatchObject({ total: eventIds.length, pending: eventIds.length, succeeded: 0 });

    // The receiver comes back on the same port.
    const seen = new Set<string>();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.add(String(req.headers['webhook-id']));
        res.writeHead(200);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => { server!.once('error', reject); server!.listen(port, '127.0.0.1', resolve); });
    await waitUntil(() => eventIds.every((id) => seen.has(id)), 'every event to arrive', 90_000);
    await waitUntil(async () => (await stats()).succeeded === eventIds.length, 'every delivery to be recorded as succeeded');
    const endpoint = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/webhooks/${endpointId}`, headers: admin.headers });
    expect(endpoint.json().enabled).toBe(true);
  });
});

if (usingPostgres()) {
  describe('an API process killed (SIGKILL) during a CSV import', () => {
    const ROWS = 40_000;
    const schema = `t_faults_${randomBytes(5).toString('hex')}`;
    let dataDir = '';
    const running: RunningServer[] = [];
    const env: Record<string, string> = {
      DATABASE_URL: process.env.DATABASE_URL!,
      DATABASE_SCHEMA: schema,
      SECRET_KEY: randomBytes(32).toString('base64'),
      ADMIN_EMAIL: 'faults@example.test',
      ADMIN_PASSWORD: `pw-${randomBytes(8).toString('hex')}`,
      LOG_LEVEL: 'warn',
    };
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'sb-faults-'));
      env.DATA_DIR = dataDir;
      await client.connect();
    });
    afterAll(async () => {
      await Promise.all(running.map((s) => s.stop('SIGKILL')));
      await client.end().catch(() => {});
      await dropSchema(schema).catch(() => {});
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    async function start() {
      const port = await freePort();
      const s = await startCli(['serve', '--no-worker'], { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
      running.push(s);
      const login = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }) });
      const headers = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };
      return { s, headers };
    }
    const counts = async (slug: string) => {
      const r = await client.query(`
        SELECT (SELECT count(*)::int FROM "${schema}".respondents t JOIN "${schema}".surveys s ON s.id = t.survey_id WHERE s.slug = $1) AS respondents,
               (SELECT count(*)::int FROM "${schema}".events t JOIN "${schema}".surveys s ON s.id = t.survey_id WHERE s.slug = $1 AND t.type = 'respondent.created') AS events`, [slug]);
      return r.rows[0] as { respondents: number; events: number };
    };

    it('the import is wholly present or wholly absent, and a second import after the restart gives one copy', async () => {
      const first = await start();
      const slug = `faults-${randomBytes(3).toString('hex')}`;
      const created = await fetch(`${first.s.url}/api/admin/surveys`, { method: 'POST', headers: { ...first.headers, 'content-type': 'application/json' }, body: JSON.stringify({ slug, name: 'Faults' }) });
      expect(created.status).toBe(201);
      const csv = 'username,name,email,l1\n' + Array.from({ length: ROWS }, (_, i) => `kill-${i},Respondent ${i},r${i}@example.org,g${i % 7}`).join('\n') + '\n';
      const up = await fetch(`${first.s.url}/api/admin/surveys/${slug}/respondents/import`, { method: 'POST', headers: { ...first.headers, 'content-type': 'text/csv' }, body: csv });
      expect(up.status).toBe(202);
      const { jobId } = (await up.json()) as { jobId: string };

      // Kill the process as soon as the write phase has written something (inside its transaction).
      let lastJob: Record<string, unknown> = {};
      await waitUntil(async () => {
        lastJob = (await (await fetch(`${first.s.url}/api/admin/jobs/${jobId}`, { headers: first.headers })).json()) as Record<string, unknown>;
        return (lastJob.phase === 'writing' && Number(lastJob.processed) > 0) || lastJob.state === 'succeeded' || lastJob.state === 'failed';
      }, 'the import to start writing', 120_000);
      first.s.child.kill('SIGKILL');
      await first.s.stop();
      expect(lastJob.state, JSON.stringify(lastJob)).not.toBe('failed');

      const after = await counts(slug);
      expect([0, ROWS]).toContain(after.respondents);
      expect(after.events).toBe(after.respondents);
      if (lastJob.state === 'running') expect(after.respondents).toBe(0); // killed mid-transaction: rolled back

      // A fresh process on the same database; the same file again completes the set exactly once.
      const second = await start();
      const again = await fetch(`${second.s.url}/api/admin/surveys/${slug}/respondents/import?onExisting=skip`, { method: 'POST', headers: { ...second.headers, 'content-type': 'text/csv' }, body: csv });
      expect(again.status).toBe(202);
      const secondJobId = ((await again.json()) as { jobId: string }).jobId;
      let job = { state: 'queued', result: { created: 0, skipped: 0 } };
      await waitUntil(async () => {
        job = (await (await fetch(`${second.s.url}/api/admin/jobs/${secondJobId}`, { headers: second.headers })).json()) as typeof job;
        return job.state === 'succeeded' || job.state === 'failed';
      }, 'the second import to finish', 150_000);
      expect(job.state, JSON.stringify(job).slice(0, 500)).toBe('succeeded');
      expect(job.result.created + job.result.skipped).toBe(ROWS);
      expect(await counts(slug)).toEqual({ respondents: ROWS, events: ROWS });
    });
  });
}

const PG_BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(`${d}/pg_ctl`));

if (usingPostgres()) {
  describe('PostgreSQL stopped and started again during traffic (a private server)', () => {
    let dir = '';
    let pgdata = '';
    let pgPort = 0;
    let server: RunningServer | null = null;
    let receiver: Receiver;
    const JWT = `outage-${randomBytes(8).toString('hex')}`;
    const asPostgres = (args: string[], timeoutMs = 60_000) =>
      execFileSync('runuser', ['-u', 'postgres', '--', ...args], { cwd: '/tmp', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    const pgCtl = (...args: string[]) => asPostgres([`${PG_BIN}/pg_ctl`, '-D', pgdata, ...args]);
    const startPg = () => pgCtl('-o', `-p ${pgPort} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'pg.log'), '-w', '-t', '60', 'start');

    beforeAll(async () => {
      if (!PG_BIN) throw new Error('the PostgreSQL server binaries (pg_ctl, initdb) are not installed under /usr/lib/postgresql');
      if (process.getuid?.() !== 0) throw new Error('this test starts its own PostgreSQL as the postgres user and must run as root');
      dir = mkdtempSync(join(tmpdir(), 'sb-pgfault-'));
      pgdata = join(dir, 'data');
      const pw = execFileSync('id', ['-u', 'postgres']).toString().trim();
      const gid = execFileSync('id', ['-g', 'postgres']).toString().trim();
      chownSync(dir, Number(pw), Number(gid));
      asPostgres([`${PG_BIN}/initdb`, '-D', pgdata, '-U', 'postgres', '-A', 'trust', '--no-sync'], 120_000);
      pgPort = await freePort();
      startPg();
      receiver = await startReceiver();
    });
    afterAll(async () => {
      await server?.stop('SIGKILL');
      await receiver?.close();
      if (PG_BIN && pgdata && existsSync(join(pgdata, 'postmaster.pid'))) {
        try { pgCtl('-m', 'immediate', '-w', 'stop'); } catch { /* already down */ }
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const hs256 = (claims: Record<string, unknown>) => {
      const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${head}.${body}.${createHmac('sha256', JWT).update(`${head}.${body}`).digest('base64url')}`;
    };

    it('answers 503 DATABASE_UNAVAILABLE during the outage, loses nothing it acknowledged, delivers its events', async () => {
      const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
      const port = await freePort();
      const env = {
        DATABASE_URL: databaseUrl, DATABASE_SCHEMA: 'public', SECRET_KEY: randomBytes(32).toString('base64'), DATA_DIR: dir,
        PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIN_EMAIL: 'outage@example.test', ADMIN_PASSWORD: `pw-${randomBytes(8).toString('hex')}`,
        WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: Array(40).fill('0.5').join(','), LOG_LEVEL: 'warn', CREATE_USER_RATE_LIMIT: '1000000',
      };
      server = await startCli(['serve'], env);
      const base = server.url;
      const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }) });
      const admin = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`, 'content-type': 'application/json' };
      const slug = `outage-${randomBytes(3).toString('hex')}`;
      expect((await fetch(`${base}/api/admin/surveys`, { method: 'POST', headers: admin, body: JSON.stringify({ slug, name: 'Outage', state: 'active', allowUserGeneration: true, jwtSecret: JWT }) })).status).toBe(201);
      expect((await fetch(`${base}/api/admin/surveys/${slug}/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ url: receiver.url('/outage'), events: ['*'], auth: { type: 'none' } }) })).status).toBe(201);

      // Traffic: new respondents through create-user, four at a time, until told to stop.
      const acknowledged = new Set<string>();
      const unavailable: string[] = [];
      const unexpected: string[] = [];
      let phase: 'before' | 'down' | 'after' = 'before';
      let afterOk = 0;
      let stop = false;
      let n = 0;
      const traffic = Promise.all(Array.from({ length: 4 }, async () => {
        while (!stop) {
          const user = `o-${n++}`;
          const at = phase;
          const started = Date.now();
          try {
            const res = await fetch(`${base}/api/surveys/${slug}/create-user?params=${hs256({ user })}`, { signal: AbortSignal.timeout(45_000) });
            const body = (await res.json()) as { userId?: number; error?: { code: string } };
            if (res.status === 200 && body.userId) {
              acknowledged.add(user);
              if (at === 'after' && phase === 'after') afterOk++;
            } else if (res.status === 503 && body.error?.code === 'DATABASE_UNAVAILABLE') unavailable.push(user);
            else unexpected.push(`${user} (${at}): ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
          } catch (err) {
            unexpected.push(`${user} (${at}): ${(err as Error).message} after ${Date.now() - started} ms`);
          }
          if (phase === 'down') await new Promise((r) => setTimeout(r, 50)); // fast 503s: do not spin
        }
      }));
      try {
        await waitUntil(() => acknowledged.size >= 20 || unexpected.length > 0, '20 acknowledged requests before the outage', 60_000);
        pgCtl('-m', 'fast', '-w', 'stop');
        phase = 'down';
        await waitUntil(() => unavailable.length >= 10 || unexpected.length > 0, 'requests answered during the outage', 60_000);
        expect(server.child.exitCode, server.output()).toBeNull();
        expect((await fetch(`${base}/readyz`)).status).toBe(503);
        startPg();
        phase = 'after';
        await waitUntil(() => afterOk >= 20 || unexpected.length > 0, '20 acknowledged requests after the outage', 90_000);
      } finally {
        stop = true;
        await traffic;
      }
      expect(unexpected).toEqual([]);
      expect(unavailable.length).toBeGreaterThanOrEqual(10);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      // Everything acknowledged is there, and its respondent.created event reaches the receiver.
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const rows = (await client.query<{ username: string; event: string }>(`
          SELECT r.username, e.id::text AS event FROM respondents r JOIN surveys s ON s.id = r.survey_id
          JOIN events e ON e.respondent_id = r.id AND e.type = 'respondent.created' WHERE s.slug = $1`, [slug])).rows;
        const stored = new Map(rows.map((r) => [r.username, r.event]));
        expect([...acknowledged].filter((u) => !stored.has(u))).toEqual([]);
        const events = [...acknowledged].map((u) => stored.get(u)!);
        await receiver.waitFor((reqs) => { const got = new Set(reqs.map((r) => String(r.headers['webhook-id']))); return events.every((id) => got.has(id)); }, 90_000);
      } finally {
        await client.end();
      }
      expect(server.child.exitCode).toBeNull();
    });
  });
}
