/**
 * bench/redirect: requests/s of `GET /surveys/{slug}/finish` for a respondent with a signed
 * completed outcome (inBrain parameters, reward, hash), against a bare Fastify route measured
 * in the same run. Set-up goes through the public API (survey, definition, respondent, sign-in,
 * submit), so the measured path is the one respondents take.
 *   npx tsx bench/redirect.ts [--quick] [--postgres]
 */
import { api, autocannonRun, bareFastifyBaseline, cliOptions, ratio, startServer, type BenchOptions, type SummaryRow } from './lib.ts';
import { verifyLink } from '../src/redirects/signing.ts';

const SECRET = 'bench-link-signing-secret-0001';

export async function run(opts: BenchOptions) {
  const durationSeconds = opts.quick ? 2 : 10;
  const connections = 50;
  // (bench/lib.ts's default CREATE_USER_RATE_LIMIT is above config's maximum; this keeps the server starting.)
  const server = await startServer({ database: opts.database, worker: false, env: { CREATE_USER_RATE_LIMIT: '10000000' } });
  let finish;
  let location = '';
  try {
    const admin = server.adminHeaders;
    const slug = `bench-redirect-${Date.now().toString(36)}`;
    await api(server.url, 'POST', '/api/admin/surveys', admin, {
      slug, name: 'Redirect bench', state: 'active', linkSigningSecret: SECRET, entryParams: ['mid'],
      outcomeUrls: { completed: 'https://partner.example/success?u={username}' },
      redirectParams: ['surveyId', 'entrySurveyId', 'userId', 'mid', 'reward', 'rewardId'],
      outcomeRewards: { completed: { reward: 10 } },
    });
    await api(server.url, 'PUT', `/api/admin/surveys/${slug}/definition`, admin, { questions: [{ id: 'q1', type: 'text', label: 'Anything to add?' }] });
    const respondent = await api(server.url, 'POST', `/api/admin/surveys/${slug}/respondents`, admin, { username: 'bench-user-1' });
    const { accessToken } = await api(server.url, 'POST', `/api/surveys/${slug}/auth`, {}, { token: respondent.authToken });
    const headers = { authorization: `Bearer ${accessToken}` };
    const submitted = await api(server.url, 'POST', `/api/surveys/${slug}/session/submit`, headers, {});
    if (submitted.outcome !== 'completed') throw new Error(`expected a completed outcome, got ${submitted.outcome}`);

    // One checked request first: the measured answer must be the signed redirect.
    const check = await fetch(`${server.url}/surveys/${slug}/finish`, { headers, redirect: 'manual' });
    location = check.headers.get('location') ?? '';
    if (check.status !== 302 || verifyLink(location, SECRET) !== 'valid') throw new Error(`finish answered ${check.status} ${location}`);

    finish = await autocannonRun({ url: `${server.url}/surveys/${slug}/finish`, headers, connections, durationSeconds });
  } finally {
    await server.stop();
  }
  const baseline = await bareFastifyBaseline({ connections, durationSeconds });
  const r = ratio(finish.requestsPerSec, baseline.requestsPerSec);
  const summary: SummaryRow[] = [
    { benchmark: 'redirect', database: opts.database, figure: 'GET /surveys/{slug}/finish req/s (signed 302)', value: finish.requestsPerSec, baseline: 'bare Fastify route req/s', baselineValue: baseline.requestsPerSec, ratio: r },
    { benchmark: 'redirect', database: opts.database, figure: 'finish latency p99 ms', value: finish.latencyP99Ms, baseline: 'bare Fastify p99 ms', baselineValue: baseline.latencyP99Ms, ratio: ratio(finish.latencyP99Ms, baseline.latencyP99Ms) },
  ];
  // Every answer of the run is a 302, which autocannon counts as "non-2xx"; errors must be zero.
  return { summary, finish, baseline, ratio: r, connections, durationSeconds, sampleLocation: location.replace(/hash=[^&]*$/, 'hash=…') };
}

if (process.argv[1]?.endsWith('redirect.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
