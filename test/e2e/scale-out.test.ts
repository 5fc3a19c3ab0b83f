/**
 * Scale-out (PostgreSQL): 2 `serve --no-worker` + 2 `worker` processes, all started at once on
 * one fresh schema (migrations and the first-admin bootstrap race), mixed traffic through both
 * API ports: create-user for the same users on both ports at once (one userId each),
 * respondents answering on one port and submitting on the other, a quota with more racers
 * than places (exactly N completes), and every event delivered to a local receiver.
 *
 * The embedded database (no DATABASE_URL) is one process by construction, so the PGlite run
 * registers a different test, chosen at collection time: `surveybridge worker` refuses to
 * start there (exit 2, saying why), and the single-process path is what the rest of the suite
 * covers on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, runCli, startCli, type RunningServer } from '../helpers/cli.ts';
import { dropSchema, usingPostgres } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';

const JWT_SECRET = `scale-out-jwt-${randomBytes(8).toString('hex')}`;
const USERS = 20;
const QUOTA = 5;

function hs256(claims: Record<string, unknown>): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${head}.${body}.${createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url')}`;
}

async function call(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (!usingPostgres()) {
  describe('scale-out (embedded database)', () => {
    it('`surveybridge worker` without DATABASE_URL exits 2 and says why (PGlite is single-process; serve runs the worker)', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sb-scale-'));
      try {
        const r = await runCli(['worker'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/worker command needs DATABASE_URL/);
        expect(r.stderr).toMatch(/"serve" runs the worker in-process/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
} else {
  describe('scale-out: 2 API + 2 worker processes on one PostgreSQL', () => {
    const schema = `t_scale_${randomBytes(5).toString('hex')}`;
    let dataDir = '';
    const procs: RunningServer[] = [];
    let receiver: Receiver;
    let apis: string[] = [];
    let admin: Record<string, string> = {};
    const env: Record<string, string> = {
      DATABASE_URL: process.env.DATABASE_URL!,
      DATABASE_SCHEMA: schema,
      SECRET_KEY: randomBytes(32).toString('base64'),
      ADMIN_EMAIL: 'scale@example.test',
      ADMIN_PASSWORD: `pw-${randomBytes(8).toString('hex')}`,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2,0.5,1,1,1,1,1,1',
      LOG_LEVEL: 'warn',
    };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'sb-scale-'));
      env.DATA_DIR = dataDir;
      receiver = await startReceiver();
      const ports = [await freePort(), await freePort()];
      // All four at once: migrations and the first-admin bootstrap race on the empty schema.
      const started = await Promise.allSettled([
        ...ports.map((port) => startCli(['serve', '--no-worker'], { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` })),
        startCli(['worker'], env, { waitReady: false }),
        startCli(['worker'], env, { waitReady: false }),
      ]);
      for (const s of started) if (s.status === 'fulfilled') procs.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (const w of procs.slice(2)) {
        await waitUntil(() => w.output().includes('delivery worker is running') || w.child.exitCode !== null, 'a worker to start', 90_000);
        expect(w.child.exitCode, w.output()).toBeNull();
      }
      apis = procs.slice(0, 2).map((p) => p.url);
      const login = await call(apis[0], 'POST', '/api/auth/login', {}, { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD });
      expect(login.status).toBe(200);
      admin = { authorization: `Bearer ${login.body.accessToken}` };
    });

    afterAll(async () => {
      await Promise.all(procs.map((p) => p.stop('SIGKILL')));
      await receiver?.close();
      await dropSchema(schema).catch(() => {});
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('all four started on the empty schema: migrations applied once, one first admin', async () => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      try {
        const users = await client.query(`SELECT count(*)::int AS n FROM "${schema}".users`);
        expect(users.rows[0].n).toBe(1);
      } finally {
        await client.end();
      }
      for (const api of apis) expect((await call(api, 'GET', '/readyz')).status).toBe(200);
      for (const p of procs) expect(p.child.exitCode, p.output()).toBeNull();
    });

    it('mixed traffic through both ports behaves as one process', async () => {
      const slug = `scale-${randomBytes(3).toString('hex')}`;
      expect((await call(apis[1], 'POST', '/api/admin/surveys', admin, { slug, name: 'Scale-out', state: 'active', allowUserGeneration: true, jwtSecret: JWT_SECRET })).status).toBe(201);
      expect((await call(apis[0], 'PUT', `/api/admin/surveys/${slug}/definition`, admin, { questions: [{ id: 'q1', type: 'text', label: 'Why?' }], quota: { maxCompletes: QUOTA } })).status).toBe(200);
      expect((await call(apis[1], 'POST', `/api/admin/surveys/${slug}/webhooks`, admin, { url: receiver.url('/scale'), events: ['*'], auth: { type: 'none' } })).status).toBe(201);

      // create-user for the same users on both ports at once (twice each): one userId per user.
      const users = Array.from({ length: USERS }, (_, i) => `panel-${i}`);
      const calls = users.flatMap((user) => [0, 1, 0, 1].map(async (k) => {
        const r = await call(apis[k], 'GET', `/api/surveys/${slug}/create-user?params=${hs256({ user, redirect: 'https://panel.example/back' })}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return { user, userId: r.body.userId as number, authToken: r.body.authToken as string };
      }));
      const results = await Promise.all(calls);
      const byUser = new Map<string, Set<number>>();
      for (const r of results) byUser.set(r.user, (byUser.get(r.user) ?? new Set()).add(r.userId));
      expect([...byUser.values()].every((ids) => ids.size === 1)).toBe(true);
      const userIds = new Set(results.map((r) => r.userId));
      expect(userIds.size).toBe(USERS);

      // Every respondent signs in and answers on one port and submits on the other, all at once.
      const tokens = new Map(results.map((r) => [r.user, r.authToken]));
      const outcomes = await Promise.all(users.map(async (user, i) => {
        const a = apis[i % 2];
        const b = apis[(i + 1) % 2];
        const signedIn = await call(a, 'POST', `/api/surveys/${slug}/auth`, {}, { token: tokens.get(user) });
        expect(signedIn.status).toBe(200);
        const bearer = { authorization: `Bearer ${signedIn.body.accessToken}` };
        expect((await call(a, 'PUT', `/api/surveys/${slug}/session/answers`, bearer, { answers: { q1: `because ${i}` } })).status).toBe(200);
        const submitted = await call(b, 'POST', `/api/surveys/${slug}/session/submit`, bearer, {});
        expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
        return submitted.body.outcome as string;
      }));
      expect(outcomes.filter((o) => o === 'completed')).toHaveLength(QUOTA);
      expect(outcomes.filter((o) => o === 'quota_full')).toHaveLength(USERS - QUOTA);

      // Every event of the survey reaches the receiver at least once, shared by the two workers.
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      try {
        const events = (await client.query<{ id: string; type: string }>(`SELECT e.id::text AS id, e.type FROM "${schema}".events e JOIN "${schema}".surveys s ON s.id = e.survey_id WHERE s.slug = $1`, [slug])).rows;
        const countOf = (type: string) => events.filter((e) => e.type === type).length;
        expect(countOf('respondent.created')).toBe(USERS);
        expect(countOf('submission.completed')).toBe(QUOTA);
        expect(countOf('session.quota_full')).toBe(USERS - QUOTA);
        const expected = new Set(events.map((e) => e.id));
        const received = () => new Set(receiver.requests.filter((r) => r.path === '/scale').map((r) => String(r.headers['webhook-id'])));
        await receiver.waitFor(() => [...expected].every((id) => received().has(id)), 90_000);
        expect(received().size).toBe(expected.size);
        await waitUntil(async () => (await client.query(`SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE state <> 'succeeded'`)).rows[0].n === 0, 'every delivery to be recorded as succeeded');
        // Nothing was sent twice: the receiver never failed and no lease ran out.
        const retried = (await client.query(`SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE attempts <> 1`)).rows[0].n;
        expect(retried).toBe(0);
        expect(receiver.requests.filter((r) => r.path === '/scale')).toHaveLength(expected.size);
      } finally {
        await client.end();
      }

      // Both API processes see the same respondents.
      const listed = await Promise.all(apis.map((api) => call(api, 'GET', `/api/admin/surveys/${slug}/respondents?limit=100`, admin)));
      for (const l of listed) {
        expect(l.status).toBe(200);
        expect(new Set((l.body.items as { userId: number }[]).map((r) => r.userId))).toEqual(userIds);
      }
      for (const p of procs) expect(p.child.exitCode, p.output()).toBeNull();
    });
  });
}
