/**
 * bench/panel-entry: what panel mode's entry rules cost. Requests/s of a browser entry
 * (`GET /surveys/{slug}?auth=…&country=UK` → 302 with a session cookie) on:
 * - a plain survey (no panel settings): the in-product baseline;
 * - a panel survey that lets the member in after every rule (blocklist of many identifiers,
 *   entry screening, attempts limit, completions limit);
 * - a closed survey whose replacement takes the member, the same member again and again (the
 *   "find and record the entry" path);
 * - the same, a new member per request through signed-free create-user links (each request
 *   creates the replacement respondent, its event and its session start).
 * Each is also set against a bare Fastify route measured in the same run.
 *   npx tsx bench/panel-entry.ts [--quick] [--postgres]
 */
import { SignJWT } from 'jose';
import { api, autocannonRun, bareFastifyBaseline, cliOptions, ratio, startServer, type BenchOptions, type LoadFigures, type SummaryRow } from './lib.ts';

const JWT_SECRET = 'bench-panel-jwt-secret-000001';
const DEF = { questions: [{ id: 'q1', type: 'text', label: 'Anything to add?' }], quota: { maxCompletes: 100000 } };

/** One checked request: the entry must answer the expected redirect. */
async function expectEntry(url: string, location: string) {
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status !== 302 || res.headers.get('location') !== location) throw new Error(`${url} answered ${res.status} ${res.headers.get('location')}`);
}

export async function run(opts: BenchOptions) {
  const durationSeconds = opts.quick ? 2 : 10;
  const connections = 20;
  const blocked = opts.quick ? 200 : 2000;
  const newMembers = opts.quick ? 400 : 3000;
  const server = await startServer({ database: opts.database, worker: false });
  const runs: Record<string, LoadFigures> = {};
  try {
    const admin = server.adminHeaders;
    const stamp = Date.now().toString(36);
    const survey = async (slug: string, settings: Record<string, unknown>) => {
      await api(server.url, 'POST', '/api/admin/surveys', admin, { slug, name: slug, state: 'active', entryParams: ['country'], ...settings });
      await api(server.url, 'PUT', `/api/admin/surveys/${slug}/definition`, admin, DEF);
      return slug;
    };
    const member = async (slug: string, username: string) => (await api(server.url, 'POST', `/api/admin/surveys/${slug}/respondents`, admin, { username })).authToken as string;

    const plain = await survey(`plain-${stamp}`, {});
    const panel = await survey(`panel-${stamp}`, {
      maxAttemptsPerRespondent: 3,
      entryScreening: [{ when: { param: 'country' }, in: ['FR', 'DE', 'PL'] }, { when: { label: 'l3' }, equals: 'minor', status: 14 }],
    });
    const target = await survey(`target-${stamp}`, {});
    const entry = await survey(`entry-${stamp}`, { replacements: [target], allowUserGeneration: true, jwtSecret: JWT_SECRET });
    await api(server.url, 'PATCH', `/api/admin/surveys/${entry}`, admin, { state: 'closed' });
    for (let i = 0; i < blocked; i++) await api(server.url, 'POST', '/api/admin/blocklist', admin, { identifier: `fraud-${stamp}-${i}` });

    const plainUrl = `${server.url}/surveys/${plain}?auth=${await member(plain, 'm-plain')}&country=UK`;
    const panelUrl = `${server.url}/surveys/${panel}?auth=${await member(panel, 'm-panel')}&country=UK`;
    const movedUrl = `${server.url}/surveys/${entry}?auth=${await member(entry, 'm-moved')}&country=UK`;
    await expectEntry(plainUrl, `/surveys/${plain}`);
    await expectEntry(panelUrl, `/surveys/${panel}`);
    await expectEntry(movedUrl, `/surveys/${target}`);

    runs.plain = await autocannonRun({ url: plainUrl, connections, durationSeconds });
    runs.panel = await autocannonRun({ url: panelUrl, connections, durationSeconds });
    runs.movedAgain = await autocannonRun({ url: movedUrl, connections, durationSeconds });

    // A new member per request: each create-user link moves someone new into the replacement.
    const key = new TextEncoder().encode(JWT_SECRET);
    const paths: string[] = [];
    for (let i = 0; i < newMembers; i++) {
      const jwt = await new SignJWT({ username: `new-${stamp}-${i}` }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(key);
      paths.push(`/surveys/${entry}?createUser=${jwt}&country=UK`);
    }
    let next = 0;
    runs.movedNew = await autocannonRun({
      url: server.url, connections, amount: newMembers,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) }],
    });
    const moved = await api(server.url, 'GET', `/api/admin/surveys/${target}/respondents?createdVia=replacement&limit=1`, admin);
    if (moved.items.length === 0) throw new Error('no member was moved into the replacement');
  } finally {
    await server.stop();
  }
  const baseline = await bareFastifyBaseline({ connections, durationSeconds });
  const row = (figure: string, f: LoadFigures, vsPlain: boolean): SummaryRow[] => [
    { benchmark: 'panel-entry', database: opts.database, figure: `${figure} req/s`, value: f.requestsPerSec, baseline: 'bare Fastify route req/s', baselineValue: baseline.requestsPerSec, ratio: ratio(f.requestsPerSec, baseline.requestsPerSec) },
    ...(vsPlain ? [{ benchmark: 'panel-entry', database: opts.database, figure: `${figure} vs plain entry`, value: f.requestsPerSec, baseline: 'plain survey entry req/s', baselineValue: runs.plain.requestsPerSec, ratio: ratio(f.requestsPerSec, runs.plain.requestsPerSec) }] : []),
  ];
  const summary: SummaryRow[] = [
    ...row('plain survey entry (?auth=, 302)', runs.plain, false),
    ...row(`panel survey entry, every rule passed (${blocked} blocked ids)`, runs.panel, true),
    ...row('closed survey → replacement, same member again', runs.movedAgain, true),
    ...row('closed survey → replacement, new member per request (create-user link)', runs.movedNew, true),
  ];
  // Every answer is a 302 (autocannon's "non-2xx"); errors must be zero.
  const errors = Object.values(runs).reduce((n, f) => n + f.errors, 0);
  if (errors > 0) throw new Error(`${errors} requests failed`);
  return { summary, runs, baseline, connections, durationSeconds, blocked, newMembers };
}

if (process.argv[1]?.endsWith('panel-entry.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
