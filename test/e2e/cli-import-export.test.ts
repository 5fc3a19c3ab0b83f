/**
 * `surveybridge import respondents` and `surveybridge export auth-urls`: the real CLI (a child
 * process) against a real listening server, with an API token.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { spawn } from 'node:child_process';
import { freePort, ROOT, runCli } from '../helpers/cli.ts';
import { progressReporter } from '../../src/cli/importExport.ts';
import { main } from '../../src/main.ts';

const port = await freePort();
const url = `http://127.0.0.1:${port}`;

describe('surveybridge import / export', () => {
  const ctx = setupApp({ env: { PORT: String(port), PUBLIC_URL: url, LOG_LEVEL: 'warn' } });
  let dir: string;

  beforeAll(async () => {
    await ctx.app().listen({ port, host: '127.0.0.1' });
    dir = mkdtempSync(join(tmpdir(), 'sb-cli-io-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function apiToken(admin: TestAdmin): Promise<string> {
    const res = await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: admin.headers, payload: { name: 'cli' } });
    expect(res.statusCode).toBe(201);
    return res.json().token as string;
  }
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('imports a good file, exports the auth URLs, and the export imports back unchanged', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const env = { SURVEYBRIDGE_URL: url, SURVEYBRIDGE_TOKEN: await apiToken(admin) };
    const csv = file('good.csv', 'username,email,redirect url,l1,cohort\nP-1,a@example.org,https://panel.example/done?u=P-1,A,2024\n"P, 2",,,"B ""quoted""",2025\n');

    const imported = await runCli(['import', 'respondents', csv, '--survey', slug], env);
    expect(imported.stderr).toContain('succeeded');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('2 created');
    expect(imported.stdout).toContain('custom fields: cohort');
    const list = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers });
    const rows = list.json().items as { username: string; l1: string | null; authUrl: string; customFields: Record<string, string> }[];
    expect(rows.map((r) => r.username).sort()).toEqual(['P, 2', 'P-1']);
    expect(rows.find((r) => r.username === 'P, 2')).toMatchObject({ l1: 'B "quoted"', customFields: { cohort: '2025' } });

    const out = join(dir, 'auth-urls.csv');
    const [exported, toStdout] = await Promise.all([
      runCli(['export', 'auth-urls', '--survey', slug, '--output', out], env),
      runCli(['export', 'auth-urls', '--survey', slug], env),
    ]);
    expect(exported.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toContain('username');
    for (const r of rows) expect(text).toContain(r.authUrl);
    expect(toStdout.stdout).toBe(text); // the same bytes on stdout

    const again = await runCli(['import', 'respondents', out, '--survey', slug, '--on-existing', 'update'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 created, 0 updated, 2 unchanged');
  });

  it('a bad row fails the import with exit 1, naming the line and column, and writes nothing', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const token = await apiToken(admin);
    const csv = file('bad.csv', 'username,email\nok-1,a@example.org\nbad-1,not-an-email\nok-2,\n');
    const res = await runCli(['import', 'respondents', csv, '--survey', slug, '--url', url, '--token', token], {});
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/line 3, column email: email is not an email address/);
    expect(res.stderr).toContain('nothing was written');
    const list = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers });
    expect(list.json().items).toEqual([]);
    // Runtime failures are exit 1 with the API's message: an unknown survey, a wrong token.
    const [unknown, badToken] = await Promise.all([
      runCli(['import', 'respondents', csv, '--survey', 'no-such-survey', '--url', url, '--token', token], {}),
      runCli(['export', 'auth-urls', '--survey', slug, '--url', url, '--token', 'sbt_wrong'], {}),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('SURVEY_NOT_FOUND');
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('401');
  });

  it('usage errors exit 2 with a one-line reason; --help exits 0', async () => {
    // The exit code of the real process, once; the cases through main() (what bin/ exits with) in-process.
    const real = await runCli(['import', 'respondents', 'x.csv', '--survey', 's', '--on-existing', 'replace'], { SURVEYBRIDGE_TOKEN: 'sbt_x' });
    expect(real.code).toBe(2);
    expect(real.stderr.trim()).toBe('surveybridge: --on-existing must be error, skip or update');

    const saved = { url: process.env.SURVEYBRIDGE_URL, token: process.env.SURVEYBRIDGE_TOKEN };
    process.env.SURVEYBRIDGE_URL = url;
    const cases: [string[], string | undefined][] = [
      [['import', 'respondents', 'x.csv'], 'sbt_x'],
      [['import', 'respondents', '--survey', 's'], 'sbt_x'],
      [['import', 'surveys', 'x.csv', '--survey', 's'], 'sbt_x'],
      [['export', 'auth-urls'], 'sbt_x'],
      [['export', 'auth-urls', '--survey', 's', '--bogus'], 'sbt_x'],
      [['export', 'auth-urls', '--survey', 's', '--url', 'ftp://x'], 'sbt_x'],
      [['export', 'auth-urls', '--survey', 's'], undefined],
    ];
    const stderr: string[] = [];
    const stdout: string[] = [];
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (stdout.push(String(s)), true));
    try {
      for (const [args, token] of cases) {
        if (token) process.env.SURVEYBRIDGE_TOKEN = token;
        else delete process.env.SURVEYBRIDGE_TOKEN;
        stderr.length = 0;
        expect(await main(args), args.join(' ')).toBe(2);
        expect(stderr.join('').trim().split('\n'), args.join(' ')).toHaveLength(1);
      }
      for (const args of [['import', '--help'], ['export', '--help'], ['--help']]) expect(await main(args)).toBe(0);
    } finally {
      errSpy.mockRestore();
      outSpy.mockRestore();
      for (const [k, v] of [['SURVEYBRIDGE_URL', saved.url], ['SURVEYBRIDGE_TOKEN', saved.token]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const help = stdout.join('');
    expect(help).toContain('Usage: surveybridge import respondents FILE');
    expect(help).toContain('Usage: surveybridge export auth-urls --survey S');
    expect(help).toContain('export auth-urls      download');
  });

  it('in a real terminal (a pty from script(1)), import draws the progress bar', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const rows = Array.from({ length: 2000 }, (_, i) => `tty-${i},tty${i}@example.org`).join('\n');
    const csv = file('tty.csv', `username,email\n${rows}\n`);
    const token = await apiToken(admin);
    const command = `${process.execPath} bin/surveybridge.js import respondents ${csv} --survey ${slug}`;
    const res = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, SURVEYBRIDGE_URL: url, SURVEYBRIDGE_TOKEN: token } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(res.out).not.toContain('surveybridge: ');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/\r\[#{30}\] 100% succeeded 2000\/2000 rows/);
    expect(res.out).toContain('2000 created');
  }, 60_000);

  it('draws a progress bar on a terminal and plain lines otherwise', () => {
    const job = (state: string, phase: string | null, processed: number, total: number | null) => ({ id: 'j', state, phase, processed, total, errors: [], result: null }) as Parameters<ReturnType<typeof progressReporter>['update']>[0];
    const written: string[] = [];
    const tty = progressReporter({ isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream);
    tty.update(job('running', 'validating', 500, 1000));
    tty.update(job('succeeded', null, 1000, 1000));
    tty.done();
    expect(written[0]).toMatch(/^\r\[#{15}\.{15}\]  50% validating 500\/1000 rows/);
    expect(written[1]).toMatch(/^\r\[#{30}\] 100% succeeded/);
    expect(written[2]).toBe('\n');

    const plain: string[] = [];
    const pipe = progressReporter({ isTTY: false, write: (s: string) => plain.push(s) } as unknown as NodeJS.WriteStream);
    pipe.update(job('running', 'validating', 0, 1000));
    pipe.update(job('running', 'validating', 10, 1000)); // same phase, too soon: not repeated
    pipe.update(job('running', 'writing', 1000, 1000));
    pipe.update(job('succeeded', null, 1000, 1000));
    pipe.done();
    expect(plain).toEqual(['validating: 0/1000 rows\n', 'writing: 1000/1000 rows\n', 'succeeded: 1000/1000 rows\n']);
  });
});
