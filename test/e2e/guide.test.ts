/**
 * docs/integration.md cannot go stale: every ```sh block of it runs, in order, in one bash
 * script (`set -euo pipefail`) against a real `surveybridge serve`, with a local webhook
 * receiver as $RECEIVER and the CLI on PATH as `surveybridge`. A failing command fails the test
 * and names its block. The ```ts blocks are type-checked against the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT, startCli, type RunningServer } from '../helpers/cli.ts';
import { dropSchema, testEnv } from '../helpers/app.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/webhookReceiver.ts';
import { verifyNotification } from '../../src/sdk/index.ts';

const GUIDE = join(ROOT, 'docs/integration.md');

/** The fenced blocks of one language, with the line each starts on. */
export function fencedBlocks(markdown: string, lang: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const re = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    blocks.push({ line: markdown.slice(0, m.index).split('\n').length, code: m[1] });
  }
  return blocks;
}

function runBash(script: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the guide's commands did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Diagnostics of the guide's ```ts blocks, each compiled as a module of this package (so `surveybridge/sdk` resolves). */
async function typeCheckSnippets(): Promise<string[]> {
  const blocks = fencedBlocks(readFileSync(GUIDE, 'utf8'), 'ts');
  if (blocks.length < 4) return [`expected the guide's TypeScript snippets, found ${blocks.length}`];
  const dir = mkdtempSync(join(ROOT, 'test/e2e/.guide-snippets-'));
  try {
    const files = blocks.map((b, i) => {
      const file = join(dir, `snippet${i + 1}.ts`);
      writeFileSync(file, `// docs/integration.md line ${b.line}\nexport {};\n${b.code}`);
      return file;
    });
    const { default: ts } = await import('typescript');
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: ['node'], lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docs/integration.md', () => {
  let server: RunningServer;
  let receiver: Receiver;
  let env: Record<string, string>;
  let work: string;
  let snippetDiagnostics: string[] | undefined;
  const admin = { ADMIN_EMAIL: 'guide@example.test', ADMIN_PASSWORD: 'guide-password-1' };

  beforeAll(async () => {
    receiver = await startReceiver();
    const port = await freePort();
    env = testEnv({ LOG_LEVEL: 'warn', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, WEBHOOK_RETRY_SCHEDULE: '1,1,1', ...admin });
    const starting = startCli(['serve'], env);
    // Type-checking is CPU work in this process; it overlaps the server's start-up in its own.
    snippetDiagnostics = await typeCheckSnippets();
    server = await starting;
    work = mkdtempSync(join(tmpdir(), 'sb-guide-'));
    // `surveybridge` on PATH, as an integrator who installed the package has it.
    mkdirSync(join(work, 'bin'));
    symlinkSync(join(ROOT, 'bin/surveybridge.js'), join(work, 'bin/surveybridge'));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    if (env) {
      rmSync(env.DATA_DIR, { recursive: true, force: true });
      if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
    }
  });

  it('runs every sh block in order against a real server', async () => {
    const blocks = fencedBlocks(readFileSync(GUIDE, 'utf8'), 'sh');
    expect(blocks.length).toBeGreaterThan(10);
    const script = [
      'set -euo pipefail',
      ...blocks.map((b, i) => `echo '--- block ${i + 1} (docs/integration.md line ${b.line})' >&2\n${b.code}`),
      // Not the guide's: hands the test the webhook secret the guide's reader got, to check a delivery.
      `printf '\\n__HOOK_SECRET=%s\\n' "$HOOK_SECRET"`,
    ].join('\n');
    const res = await runBash(script, work, {
      PATH: `${join(work, 'bin')}:${process.env.PATH}`,
      HOME: process.env.HOME ?? work,
      SB: server.url,
      RECEIVER: receiver.url(''),
      ...admin,
    }, 150_000);
    if (res.code !== 0) {
      const lastBlock = [...res.stderr.matchAll(/--- block \d+ \(docs\/integration.md line \d+\)/g)].pop()?.[0];
      throw new Error(`the guide failed in ${lastBlock} (exit ${res.code})\nstderr:\n${res.stderr.slice(-3000)}\nstdout:\n${res.stdout.slice(-2000)}\nserver:\n${server.output().slice(-2000)}`);
    }
    // The third party's receiver really got what the guide promises.
    const paths = receiver.requests.map((r) => r.path);
    expect(paths).toContain('/hooks/hmac');
    expect(paths).toContain('/hooks/sync');
    expect(res.stdout).toMatch(/^valid$/m); // surveybridge verify-link accepted the real redirect
    // Panel mode: the closed survey's create-user links land on the replacement, which pays and names both surveys.
    expect(res.stdout).toMatch(/^302 http:\/\/127\.0\.0\.1:\d+\/surveys\/backup$/m);
    expect(res.stdout).toContain('{"username":"panel-8","surveyId":"backup","entrySurveyId":"demo"}');
    expect(res.stdout).toMatch(/^https:\/\/panel\.example\/complete\?surveyId=backup&entrySurveyId=demo&userId=panel-8&reward=4&rewardId=[0-9a-f-]{36}&hash=/m);
    expect(res.stdout).toMatch(/^panel-8,completed,,4,1,demo$/m);
    expect(res.stdout).toContain('{"code":"ENTRY_REFUSED","details":{"status":9}}');
    // The inbound add-respondent reached the hmac endpoint through the worker, and verifies with the SDK.
    const whsec = /^__HOOK_SECRET=(whsec_\S+)$/m.exec(res.stdout)?.[1];
    expect(whsec).toBeDefined();
    const isCrmCreated = (r: ReceivedRequest) => r.path === '/hooks/hmac' && r.body.includes('"respondent.created"') && r.body.includes('crm-8812');
    const reqs = await receiver.waitFor((all) => all.some(isCrmCreated), 30_000);
    const delivery = reqs.find(isCrmCreated)!;
    expect(verifyNotification({ headers: delivery.headers, body: delivery.body, secret: whsec! })).toMatchObject({ type: 'respondent.created', respondent: { username: 'crm-8812' } });
  }, 180_000);

  it('has TypeScript snippets that type-check against the SDK', () => {
    expect(snippetDiagnostics).toEqual([]);
  });
});
