import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { freePort, runCli, startCli } from '../helpers/cli.ts';
import { dropSchema, testEnv } from '../helpers/app.ts';

const envs: Record<string, string>[] = [];
function env(extra: Record<string, string> = {}) {
  const e = testEnv({ LOG_LEVEL: 'warn', ...extra });
  envs.push(e);
  return e;
}

afterAll(async () => {
  for (const e of envs) {
    rmSync(e.DATA_DIR, { recursive: true, force: true });
    if (e.DATABASE_SCHEMA) await dropSchema(e.DATABASE_SCHEMA);
  }
});

describe('surveybridge CLI', () => {
  it('serves, survives a restart with its data, and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const e = env({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIN_EMAIL: 'first@example.test', ADMIN_PASSWORD: 'first-password' });
    const first = await startCli(['serve'], e);
    console.log(`start-up to /readyz (${e.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, first start): ${first.startupMs} ms`);
    await first.waitForOutput('First admin:');
    expect(first.output()).toContain(`http://127.0.0.1:${port}/admin`);
    expect(first.output()).toContain('first@example.test');
    expect(first.output()).not.toContain('first-password');
    const login = await fetch(`${first.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'first@example.test', password: 'first-password' }) });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.url}/api/admin/surveys`, { method: 'POST', headers: auth, body: JSON.stringify({ slug: 'kept-across-restarts', name: 'Kept' }) });
    expect(created.status).toBe(201);
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startCli(['serve'], e);
    console.log(`start-up to /readyz (${e.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, restart): ${second.startupMs} ms`);
    await second.waitForOutput('Sign in with an existing admin');
    expect(second.output()).not.toContain('First admin:');
    const read = await fetch(`${second.url}/api/admin/surveys/kept-across-restarts`, { headers: auth });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { name: string }).name).toBe('Kept');
    expect(await second.stop('SIGINT')).toBe(0);
  });

  it('prints a generated first password once when none is configured', async () => {
    const port = await freePort();
    const e = env({ PORT: String(port) });
    const server = await startCli(['serve', '--no-worker'], e);
    await server.waitForOutput('First admin:');
    const m = /First admin:\s+(\S+) \/ (\S+)/.exec(server.output());
    expect(m).not.toBeNull();
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: m![1], password: m![2] }) });
    expect(login.status).toBe(200);
    expect(await server.stop()).toBe(0);
  });

  it('exits 2 naming the variable for bad configuration, and for bad usage', async () => {
    const badPort = await runCli(['serve'], env({ PORT: 'eighty' }));
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('PORT');
    expect(badPort.stderr.trim().split('\n')).toHaveLength(1);
    const badKey = await runCli(['migrate'], env({ SECRET_KEY: 'c2hvcnQ=' }));
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('SECRET_KEY');
    const noKey = await runCli(['migrate'], { ...env(), DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', SECRET_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('SECRET_KEY');
    const unknown = await runCli(['frobnicate'], env());
    expect(unknown.code).toBe(2);
    const badOption = await runCli(['serve', '--bogus'], env());
    expect(badOption.code).toBe(2);
    const badAdmin = await runCli(['admin', 'create', '--email', 'nope'], env());
    expect(badAdmin.code).toBe(2);
  });

  it('prints --help for every command and exits 0', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['worker', '--help'], ['migrate', '--help'], ['admin', '--help']]) {
      const res = await runCli(args, env());
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toContain('Usage: surveybridge');
    }
  });

  it('admin create adds a user who can sign in, and migrate reports an up-to-date database', async () => {
    const port = await freePort();
    const e = env({ PORT: String(port) });
    const migrated = await runCli(['migrate'], e);
    expect(migrated.code).toBe(0);
    expect((await runCli(['migrate'], e)).stdout).toContain('up to date');
    const created = await runCli(['admin', 'create', '--email', 'ops@example.test', '--password', 'ops-password-1', '--account', 'Ops'], e);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('ops@example.test');
    const server = await startCli(['serve', '--no-worker'], e);
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@example.test', password: 'ops-password-1' }) });
    expect(login.status).toBe(200);
    const me = await fetch(`${server.url}/api/admin/me`, { headers: { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` } });
    expect(((await me.json()) as { account: { name: string; role: string } }).account).toMatchObject({ name: 'Ops', role: 'owner' });
    expect(await server.stop()).toBe(0);
  });
});
