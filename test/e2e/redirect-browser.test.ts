/**
 * The whole hand-off in Chromium: a "third-party" page on its own loopback server links into a
 * signed entry URL (with a pass-through `mid`), the respondent answers and submits, and the
 * browser lands on the third party's success page, whose server verifies the hash with the
 * integrator snippet of docs/redirects.md. A forged or unsigned entry ends on the failure page
 * with status 1/2.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, partnerSigning } from '../helpers/browser.ts';
import { setupApp, type TestAdmin } from '../helpers/app.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// ---- the third party's side: its own signing and verification code (docs/redirects.md) -------
const SECRET = 'third-party-shared-secret-01';
const { sign: partnerSign, verify: partnerVerify } = partnerSigning(SECRET);

const sbPort = await freePort();
const tpPort = await freePort();
const sbBase = `http://127.0.0.1:${sbPort}`;
const tpBase = `http://127.0.0.1:${tpPort}`;

describe('signed hand-off in Chromium', () => {
  const ctx = setupApp({ env: { PUBLIC_URL: sbBase } });
  let browser: Browser;
  let thirdParty: Server;
  /** What the third party's server saw on its landing pages. */
  const landings: { path: string; verified: boolean; params: Record<string, string> }[] = [];
  /** The entry link the third party's page offers (set per test). */
  let entryLink = '';

  beforeAll(async () => {
    await ctx.app().listen({ port: sbPort, host: '127.0.0.1' });
    thirdParty = createHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', tpBase);
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><title>Panel</title><a id="go" href="${entryLink.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">Take the survey</a>`);
        return;
      }
      if (url.pathname !== '/success' && url.pathname !== '/failure') {
        res.writeHead(404).end(); // e.g. the browser's favicon request
        return;
      }
      // The server verifies over the URL exactly as requested (raw path and query).
      const verified = partnerVerify(tpBase + (req.url ?? ''));
      landings.push({ path: url.pathname, verified, params: Object.fromEntries(url.searchParams) });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>${url.pathname}</title><p id="verdict">${verified ? 'verified' : 'forged'}</p>`);
    });
    await new Promise<void>((r) => thirdParty.listen(tpPort, '127.0.0.1', r));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => thirdParty?.close(r));
  });

  async function setUp(admin: TestAdmin) {
    const slug = await ctx.newSurvey(admin, {
      state: 'active', linkSigningSecret: SECRET, requireSignedEntry: true, entryParams: ['mid'],
      allowedRedirectOrigins: [tpBase],
      outcomeUrls: { completed: `${tpBase}/success`, disqualified: `${tpBase}/failure` },
      redirectParams: ['surveyId', 'entrySurveyId', 'userId', 'mid', 'reward', 'rewardId'],
      outcomeRewards: { completed: { reward: 10 } },
    });
    const def = await ctx.inject({
      method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers,
      payload: { questions: [{ id: 'fruit', type: 'text', label: 'Favourite fruit', required: true }], completion: { redirectTimer: -1 } },
    });
    expect(def.statusCode, def.body).toBe(200);
    const created = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: `panel-${sbPort}-${Date.now()}` } });
    expect(created.statusCode, created.body).toBe(201);
    return { slug, respondent: created.json() as { username: string; authToken: string } };
  }

  it('enters through a signed link, completes, and lands on a success page whose server verifies the hash', async () => {
    const admin = await ctx.newAdmin();
    const { slug, respondent } = await setUp(admin);
    // The third party builds and signs its own entry link, with its pass-through parameter.
    entryLink = partnerSign(`${sbBase}/surveys/${slug}?auth=${encodeURIComponent(respondent.authToken)}&mid=MS4wSM8xLjUx`);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${tpBase}/`);
    await page.click('#go');
    await page.getByLabel('Favourite fruit').fill('Mango');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL((u) => u.origin === tpBase && u.pathname === '/success', { timeout: 20_000 });
    expect(await page.locator('#verdict').textContent()).toBe('verified');
    const landing = landings.at(-1)!;
    expect(landing.verified).toBe(true);
    expect(landing.params).toMatchObject({ surveyId: slug, entrySurveyId: slug, userId: respondent.username, mid: 'MS4wSM8xLjUx', reward: '10' });
    expect(landing.params.rewardId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(landing.params).at(-1)).toBe('hash');
    // The secret never reached the browser.
    expect(await page.content()).not.toContain(SECRET);
    await page.context().close();
  });

  it('sends a tampered entry link to the failure page with status 2 (signed, so the third party can trust it)', async () => {
    const admin = await ctx.newAdmin();
    const { slug, respondent } = await setUp(admin);
    entryLink = partnerSign(`${sbBase}/surveys/${slug}?auth=${encodeURIComponent(respondent.authToken)}&mid=first`).replace('mid=first', 'mid=other');
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${tpBase}/`);
    await page.click('#go');
    await page.waitForURL((u) => u.origin === tpBase && u.pathname === '/failure', { timeout: 20_000 });
    expect(await page.locator('#verdict').textContent()).toBe('verified');
    expect(landings.at(-1)!.params).toMatchObject({ surveyId: slug, status: '2' });
    await page.context().close();
  });
});
