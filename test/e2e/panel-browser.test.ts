/**
 * Panel mode, the whole path once in Chromium (issue 10): a "panel" page on its own loopback
 * server offers a `?createUser=<JWT>&mid=…` entry link into survey A, signed by the panel with
 * the shared secret. A is closed, so the respondent is moved into its replacement B, answers and
 * submits, and lands on the panel's success page, whose server verifies the hash and reads
 * surveyId (B), entrySurveyId (A), userId, mid, reward and rewardId. The webhook of B (delivered
 * by the worker) and B's rewards export say the same. With no replacement left, the respondent
 * lands on the panel's failure page with status 6, signed too.
 * Screenshots go to /tmp/panel-*.png, never into the repository.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { and, eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, partnerSigning } from '../helpers/browser.ts';
import { respondents } from '../../src/db/schema/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { freePort } from '../helpers/cli.ts';
import { setupApp, unique, type TestAdmin } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';

// ---- the panel's side: its own signing and verification code (docs/redirects.md) -------------
const SECRET = 'panel-shared-link-secret-0001';
const JWT_SECRET = 'panel-create-user-jwt-secret-0001';
const { sign: panelSign, verify: panelVerify } = partnerSigning(SECRET);
const createUserJwt = (username: string) =>
  new SignJWT({ username }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

const sbPort = await freePort();
const tpPort = await freePort();
const sbBase = `http://127.0.0.1:${sbPort}`;
const tpBase = `http://127.0.0.1:${tpPort}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('panel mode in Chromium: signed entry → replacement → completion → verified redirect', () => {
  const ctx = setupApp({ env: { PUBLIC_URL: sbBase, LOG_LEVEL: 'warn' } });
  const db = () => ctx.services().database.db;
  let browser: Browser;
  let panel: Server;
  let receiver: Receiver;
  let worker: WorkerHandle | undefined;
  /** What the panel's server saw on its landing pages. */
  const landings: { path: string; url: string; verified: boolean; params: Record<string, string> }[] = [];
  /** The entry link the panel's page offers (set per test). */
  let entryLink = '';
  /** Webhook signing secrets by receiver path (shown once at creation). */
  const hookSecrets = new Map<string, string>();

  beforeAll(async () => {
    await ctx.app().listen({ port: sbPort, host: '127.0.0.1' });
    worker = await startWorker(ctx.services(), { pollMs: 200 });
    receiver = await startReceiver();
    panel = createHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', tpBase);
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>Panel</title><h1>Acme panel</h1><p><a id="go" href="${escapeHtml(entryLink)}">Take the survey</a></p>`);
        return;
      }
      if (url.pathname !== '/success' && url.pathname !== '/failure') {
        res.writeHead(404).end(); // e.g. the browser's favicon request
        return;
      }
      // The panel verifies over the URL exactly as requested (raw path and query).
      const full = tpBase + (req.url ?? '');
      const verified = panelVerify(full);
      const params = Object.fromEntries(url.searchParams);
      landings.push({ path: url.pathname, url: full, verified, params });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const rows = Object.entries(params).filter(([k]) => k !== 'hash').map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td data-param="${escapeHtml(k)}">${escapeHtml(v)}</td></tr>`).join('');
      res.end(`<!doctype html><title>Panel ${url.pathname}</title><h1>${url.pathname === '/success' ? 'Thanks, reward credited' : 'Not this time'}</h1>`
        + `<p id="verdict">${verified ? 'verified' : 'forged'}</p><table>${rows}</table>`);
    });
    await new Promise<void>((r) => panel.listen(tpPort, '127.0.0.1', r));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await receiver?.close();
    if (panel) {
      panel.closeAllConnections();
      await new Promise((r) => panel.close(r));
    }
  });

  const patch = async (admin: TestAdmin, slug: string, payload: Record<string, unknown>) => {
    const res = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload });
    expect(res.statusCode, res.body).toBe(200);
  };
  const REDIRECTS = {
    linkSigningSecret: SECRET,
    allowedRedirectOrigins: [tpBase],
    outcomeUrls: { completed: `${tpBase}/success`, disqualified: `${tpBase}/failure` },
    redirectParams: ['surveyId', 'entrySurveyId', 'userId', 'mid', 'reward', 'rewardId', 'status'],
    outcomeRewards: { completed: { reward: 1.25 } },
  };

  /** Replacement B (active, two questions, an hmac webhook on submission.completed) and entry survey A, then A closed. */
  async function setUp(admin: TestAdmin) {
    const b = await ctx.newSurvey(admin, { state: 'active', ...REDIRECTS });
    const def = await ctx.inject({
      method: 'PUT', url: `/api/admin/surveys/${b}/definition`, headers: admin.headers,
      payload: {
        questions: [
          { id: 'fruit', type: 'text', label: 'Favourite fruit', required: true },
          { id: 'colour', type: 'single', label: 'Favourite colour', required: true, options: [{ value: 'red', label: 'Red' }, { value: 'blue', label: 'Blue' }] },
        ],
        completion: { redirectTimer: -1 },
      },
    });
    expect(def.statusCode, def.body).toBe(200);
    const hookPath = `/hook-${b}`;
    const hook = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${b}/webhooks`, headers: admin.headers, payload: { url: receiver.url(hookPath), events: ['submission.completed'], auth: { type: 'hmac' } } });
    expect(hook.statusCode, hook.body).toBe(201);
    hookSecrets.set(hookPath, hook.json().secret);

    const a = await ctx.newSurvey(admin, {
      state: 'active', ...REDIRECTS, requireSignedEntry: true, entryParams: ['mid'], replacements: [b],
      allowUserGeneration: true, jwtSecret: JWT_SECRET,
    });
    const defA = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${a}/definition`, headers: admin.headers, payload: { questions: [{ id: 'never', type: 'text', label: 'Entry survey question' }] } });
    expect(defA.statusCode, defA.body).toBe(200);
    await patch(admin, a, { state: 'closed' });
    const ids = Object.fromEntries(await Promise.all([a, b].map(async (s) => [s, (await ctx.services().surveys.getPublic(s)).id] as const)));
    return { a, b, aId: ids[a], bId: ids[b], hookPath };
  }

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  }

  it('moves a createUser entrant of a closed survey into its replacement; the panel verifies reward and hash; webhook and rewards export agree', async () => {
    const admin = await ctx.newAdmin();
    const { a, b, aId, bId, hookPath } = await setUp(admin);
    const username = unique('member');
    const mid = `MID-${Date.now().toString(36)}`;
    // The panel builds and signs its own entry link: PUBLIC_URL + path + query, hash last.
    entryLink = panelSign(`${sbBase}/surveys/${a}?createUser=${await createUserJwt(username)}&mid=${mid}`);

    const page = await newPage();
    const pageErrors: Error[] = [];
    page.on('pageerror', (e) => pageErrors.push(e));
    await page.goto(`${tpBase}/`);
    await page.click('#go');
    // A is closed: the browser ends up on B's page, signed in, with the token out of the address bar.
    await page.getByLabel('Favourite fruit').waitFor();
    expect(page.url()).toBe(`${sbBase}/surveys/${b}`);
    await page.getByLabel('Favourite fruit').fill('Mango');
    await page.getByLabel('Blue').check();
    await page.screenshot({ path: '/tmp/panel-replacement-form.png', fullPage: true });

    // Moved before answering: the row lives in B, made by the replacement, remembering A.
    const [moved] = await db().select().from(respondents).where(and(eq(respondents.surveyId, bId), eq(respondents.username, username)));
    expect(moved).toMatchObject({ createdVia: 'replacement', entrySurveyId: aId, entryParams: { mid } });
    expect(await db().select().from(respondents).where(eq(respondents.surveyId, aId))).toEqual([]);

    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL((u) => u.origin === tpBase && u.pathname === '/success');
    expect(await page.locator('#verdict').textContent()).toBe('verified');
    await page.screenshot({ path: '/tmp/panel-success.png', fullPage: true });

    const landing = landings.at(-1)!;
    expect(landing.path).toBe('/success');
    expect(landing.verified).toBe(true);
    expect(landing.params).toMatchObject({ surveyId: b, entrySurveyId: a, userId: username, mid, reward: '1.25' });
    expect(landing.params.rewardId).toMatch(UUID);
    expect(Object.keys(landing.params).at(-1)).toBe('hash');
    // A tampered copy (a bigger reward) does not verify.
    expect(panelVerify(landing.url.replace('reward=1.25', 'reward=9.99'))).toBe(false);
    // No secret reached the browser.
    expect(await page.content()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);

    // The row in B is completed; the one in A never existed.
    const [done] = await db().select().from(respondents).where(eq(respondents.id, moved.id));
    expect(done).toMatchObject({ status: 'completed', createdVia: 'replacement', entrySurveyId: aId });

    // B's webhook (sent by the worker, Standard Webhooks hmac) names both surveys and the same reward.
    const reqs = await receiver.waitFor((rs) => rs.some((r) => r.path === hookPath));
    const req = reqs.find((r) => r.path === hookPath)!;
    const event = new Webhook(hookSecrets.get(hookPath)!).verify(req.body, req.headers as Record<string, string>) as {
      type: string; survey: { slug: string }; entrySurvey?: { id: number; slug: string }; respondent: { username: string }; data: Record<string, unknown>;
    };
    expect(event.type).toBe('submission.completed');
    expect(event.survey.slug).toBe(b);
    expect(event.entrySurvey).toMatchObject({ id: aId, slug: a });
    expect(event.respondent.username).toBe(username);
    expect(event.data).toMatchObject({ outcome: 'completed', reward: '1.25', rewardId: landing.params.rewardId });
    expect(JSON.stringify(event.data)).toContain('Mango');

    // B's rewards export has the reward, naming the entry survey.
    const csv = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${b}/rewards.csv`, headers: admin.headers });
    expect(csv.statusCode, csv.body).toBe(200);
    const [header, ...lines] = csv.body.trim().split(/\r?\n/);
    const cols = header.split(',');
    expect(cols).toEqual(['record_id', 'user_id', 'username', 'outcome', 'status', 'reward', 'reward_id', 'test', 'submitted_at', 'attempt', 'entry_survey']);
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    const row = rows.find((r) => r.reward_id === landing.params.rewardId);
    expect(row, csv.body).toMatchObject({ username, outcome: 'completed', reward: '1.25', entry_survey: a });
    await page.context().close();
  });

  it('sends the entrant to the panel\'s failure page with status 6 (signed) when the replacement is closed too', async () => {
    const admin = await ctx.newAdmin();
    const { a, b, aId, bId } = await setUp(admin);
    await patch(admin, b, { state: 'closed' });
    const username = unique('member');
    entryLink = panelSign(`${sbBase}/surveys/${a}?createUser=${await createUserJwt(username)}&mid=NO-ROOM`);

    const page = await newPage();
    await page.goto(`${tpBase}/`);
    await page.click('#go');
    await page.waitForURL((u) => u.origin === tpBase && u.pathname === '/failure');
    expect(await page.locator('#verdict').textContent()).toBe('verified');
    await page.screenshot({ path: '/tmp/panel-failure.png', fullPage: true });
    const landing = landings.at(-1)!;
    expect(landing.verified).toBe(true);
    expect(landing.params).toMatchObject({ surveyId: a, entrySurveyId: a, userId: username, mid: 'NO-ROOM', status: '6' });
    expect(landing.params.reward).toBeUndefined();
    expect(landing.params.rewardId).toBeUndefined();
    // Nobody was created in either survey.
    for (const id of [aId, bId]) expect(await db().select().from(respondents).where(eq(respondents.surveyId, id))).toEqual([]);
    await page.context().close();
  });
});
