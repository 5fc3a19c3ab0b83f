/**
 * The whole story, once, in Chromium (playwright-core + Debian Chromium) against the real
 * server with the delivery worker running:
 *
 *  1. An admin signs in to the console, creates a survey, generates its JWT secret and its
 *     link-signing secret (each shown once: read from the page), lets third parties create
 *     respondents, points the `completed` outcome at a local "third-party" server, makes the
 *     survey active, adds a question in the definition editor and a JWT-authenticated webhook
 *     to a local receiver — all through the console.
 *  2. The third party's page builds a createUser link with the SDK (`createUserUrl`) using the
 *     secret the console showed; the respondent (same browser, new page) follows it, answers
 *     and submits.
 *  3. The receiver checks the delivery with the SDK's `verifyNotification` (and answers 401 if
 *     it does not verify); the browser lands on the third party's page, whose server checks
 *     the `hash` with the SDK's `verifyLink`.
 *  4. The admin sees the delivery (succeeded, HTTP 200) in the deliveries log and the
 *     respondent as completed on the respondents page.
 *
 * Screenshots go to /tmp/surveybridge-story (or STORY_SCREENSHOTS), never into the repository.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { createUserUrl, verifyLink, verifyNotification, type SurveybridgeEvent } from '../../src/sdk/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { freePort } from '../helpers/cli.ts';
import { setupApp } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';

const sbPort = await freePort();
const tpPort = await freePort();
const sbBase = `http://127.0.0.1:${sbPort}`;
const tpBase = `http://127.0.0.1:${tpPort}`;
const SHOTS = process.env.STORY_SCREENSHOTS ?? '/tmp/surveybridge-story';
const ctx = setupApp({ env: { PUBLIC_URL: sbBase, LOG_LEVEL: 'warn' } });

/** What the third party knows: set by the test once the console has shown it. */
const partner = { slug: '', jwtSecret: '', linkSecret: '', user: `panel-${process.pid}-${Date.now().toString(36)}` };
/** What the third party's server saw on its landing page. */
const landings: { url: string; verified: boolean; params: Record<string, string> }[] = [];
/** Every delivery the receiver got, with the SDK's verdict. */
const verdicts: { ok: boolean; event?: SurveybridgeEvent; error?: string }[] = [];

let browser: Browser;
let thirdParty: Server;
let receiver: Receiver;
let worker: WorkerHandle | undefined;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ctx.app().listen({ port: sbPort, host: '127.0.0.1' });
  worker = await startWorker(ctx.services(), { pollMs: 500 });

  // The third party: a page that links into the survey with an SDK-built createUser link, and
  // a landing page whose server verifies the redirect's hash with the SDK.
  thirdParty = createServer((req, res) => {
    const url = new URL(req.url ?? '/', tpBase);
    if (url.pathname === '/') {
      const link = createUserUrl({ publicUrl: sbBase, survey: partner.slug, secret: partner.jwtSecret, user: partner.user, name: 'Ada Lovelace' });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Panel</title><h1>Acme panel</h1><p><a id="go" href="${escapeHtml(link)}">Take the survey</a></p>`);
      return;
    }
    if (url.pathname !== '/done') {
      res.writeHead(404).end(); // e.g. the browser's favicon request
      return;
    }
    // Verified over the URL exactly as requested (raw path and query).
    const full = tpBase + (req.url ?? '');
    const verified = verifyLink(full, partner.linkSecret);
    landings.push({ url: full, verified, params: Object.fromEntries(url.searchParams) });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Welcome back</title><h1>Welcome back, ${escapeHtml(url.searchParams.get('u') ?? '?')}</h1><p id="verdict">${verified ? 'verified' : 'forged'}</p>`);
  });
  await new Promise<void>((r) => thirdParty.listen(tpPort, '127.0.0.1', r));

  // The receiver answers 2xx only for deliveries that verify with the SDK.
  receiver = await startReceiver();
  receiver.respond = (req) => {
    try {
      const event = verifyNotification({ headers: req.headers, body: req.body, secret: partner.jwtSecret, url: receiver.url('/hook') });
      verdicts.push({ ok: true, event });
      return { status: 200, body: 'ok' };
    } catch (err) {
      verdicts.push({ ok: false, error: String(err) });
      return { status: 401, body: 'not verified' };
    }
  };

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await receiver?.close();
  if (thirdParty) {
    thirdParty.closeAllConnections();
    await new Promise((r) => thirdParty.close(r));
  }
});

function watch(page: Page) {
  page.setDefaultTimeout(20_000);
  // A page error is a bug: fail loudly rather than go on with a blank page.
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}

describe('the whole story', () => {
  it('console set-up, SDK createUser link, answer and submit, verified webhook, verified redirect, delivery and respondent in the console', async () => {
    const admin = await ctx.newAdmin();
    const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
    const page = watch(await context.newPage());

    // ---- 1. the admin sets the survey up in the console ----------------------------------
    await page.goto(`${sbBase}/admin`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Surveys' }).waitFor();

    const name = `Story ${Date.now().toString(36)}`;
    await page.getByRole('link', { name: 'New survey' }).click();
    await page.getByLabel('Name').fill(name);
    partner.slug = await page.getByLabel('Slug').inputValue();
    await page.getByRole('button', { name: 'Create survey' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    expect(page.url()).toBe(`${sbBase}/admin/surveys/${partner.slug}/settings`);

    // Both secrets: Generate, shown once (read from the page), then "set".
    for (const [key, into] of [['jwtSecret', 'jwtSecret'], ['linkSigningSecret', 'linkSecret']] as const) {
      const control = page.locator(`[data-secret="${key}"]`);
      await control.getByRole('button', { name: 'Generate' }).click();
      const shown = control.getByTestId('shown-once');
      await shown.waitFor();
      partner[into] = (await shown.textContent()) ?? '';
      expect(partner[into]).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      await expect.poll(() => control.getByTestId(`${key}-status`).textContent()).toBe('set');
    }
    expect(partner.jwtSecret).not.toBe(partner.linkSecret);

    await page.getByLabel('Let third parties create respondents on the fly').check();
    const completed = page.locator('.outcome', { has: page.getByRole('heading', { name: 'Completed' }) });
    await completed.getByLabel('URL').fill(`${tpBase}/done?u={username}`);
    await page.getByRole('checkbox', { name: 'surveyId', exact: true }).check();
    await page.getByRole('checkbox', { name: 'outcome', exact: true }).check();
    await page.getByLabel('State').selectOption('active');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    await page.screenshot({ path: `${SHOTS}/1-settings.png`, fullPage: true });
    // The sticky save bar covers part of a full-page capture: the saved outcome URL, in view.
    await page.locator('#sec-redirects').screenshot({ path: `${SHOTS}/1-settings-redirects.png` });

    // A question in the definition editor.
    await page.getByRole('navigation', { name: 'Survey' }).getByRole('link', { name: 'Definition' }).click();
    await page.getByText('No definition saved yet.').waitFor();
    await page.getByRole('button', { name: 'Add a question' }).click();
    await page.getByLabel('Question text').fill('Favourite fruit');
    await page.getByLabel('Required').check();
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await page.getByText('Saved as version 1.').waitFor();

    // A webhook to the local receiver, authenticated with a JWT signed by the survey's secret.
    await page.getByRole('navigation', { name: 'Survey' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    await page.getByLabel('URL', { exact: true }).fill(receiver.url('/hook'));
    await page.getByLabel('Authentication').selectOption('jwt');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const endpoint = page.getByRole('article', { name: `Endpoint ${receiver.url('/hook')}` });
    await endpoint.waitFor();
    expect(await endpoint.textContent()).toContain("auth jwt (the survey's JWT secret)");
    expect(await endpoint.textContent()).toContain('submission.completed');
    await page.screenshot({ path: `${SHOTS}/2-webhooks.png`, fullPage: true });

    // What the console saved, read back through the API: and never a secret.
    const saved = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${partner.slug}`, headers: admin.headers });
    expect(saved.json()).toMatchObject({ state: 'active', allowUserGeneration: true, jwtSecretSet: true, linkSigningSecretSet: true, definitionVersion: 1, outcomeUrls: { completed: `${tpBase}/done?u={username}` }, redirectParams: ['surveyId', 'outcome'] });
    expect(saved.body).not.toContain(partner.jwtSecret);
    expect(saved.body).not.toContain(partner.linkSecret);

    // ---- 2. the respondent: third-party page → createUser link → answer → submit ----------
    const respondent = watch(await context.newPage());
    await respondent.goto(`${tpBase}/`);
    expect(await respondent.locator('#go').getAttribute('href')).toContain(`${sbBase}/surveys/${partner.slug}?createUser=`);
    await respondent.click('#go');
    await respondent.getByLabel('Favourite fruit').waitFor();
    expect(new URL(respondent.url()).search).toBe(''); // the token left the address bar
    await respondent.getByLabel('Favourite fruit').fill('Mango');
    await respondent.screenshot({ path: `${SHOTS}/3-form.png`, fullPage: true });
    await respondent.getByRole('button', { name: 'Submit' }).click();
    const outcome = respondent.locator('[data-outcome]');
    await outcome.waitFor();
    expect(await outcome.getAttribute('data-outcome')).toBe('completed');
    await respondent.screenshot({ path: `${SHOTS}/4-completed.png`, fullPage: true });

    // ---- 3. the third party's landing page verifies the hash -----------------------------
    await respondent.getByRole('link', { name: 'Continue' }).click();
    await respondent.waitForURL((u) => u.origin === tpBase && u.pathname === '/done');
    expect(await respondent.locator('#verdict').textContent()).toBe('verified');
    const landing = landings.at(-1)!;
    expect(landing.verified).toBe(true);
    expect(landing.params).toMatchObject({ u: partner.user, surveyId: partner.slug, outcome: 'completed' });
    expect(Object.keys(landing.params).at(-1)).toBe('hash');
    // A tampered copy of the same URL does not verify.
    expect(verifyLink(landing.url.replace(`u=${partner.user}`, 'u=someone-else'), partner.linkSecret)).toBe(false);
    await respondent.screenshot({ path: `${SHOTS}/5-third-party.png`, fullPage: true });

    // The receiver got the submission and the SDK verified it (JWT: signature, aud, exp, body hash).
    await receiver.waitFor(() => verdicts.some((v) => v.event?.type === 'submission.completed'));
    expect(verdicts.filter((v) => !v.ok)).toEqual([]);
    const event = verdicts.find((v) => v.event?.type === 'submission.completed')!.event!;
    expect(event.survey.slug).toBe(partner.slug);
    expect(event.respondent?.username).toBe(partner.user);
    if (event.type !== 'submission.completed') throw new Error('unreachable');
    expect(event.data.outcome).toBe('completed');
    expect(JSON.stringify(event.data.answers)).toContain('Mango');
    await respondent.close();

    // ---- 4. the admin sees the delivery and the completed respondent ----------------------
    await page.getByRole('navigation', { name: 'Survey' }).getByRole('link', { name: 'Webhooks' }).click();
    await endpoint.getByRole('link', { name: 'Deliveries' }).click();
    const delivery = page.getByRole('table', { name: 'Deliveries' }).getByRole('row').filter({ hasText: 'submission.completed' });
    // The worker records the attempt just after the receiver answered: refresh until it shows.
    const state = delivery.locator('td[data-label="Status"]');
    await expect
      .poll(async () => {
        await Promise.all([
          page.waitForResponse((r) => r.url().includes(`/webhooks/`) && r.url().includes('/deliveries?')),
          page.getByRole('button', { name: 'Refresh', exact: true }).click(),
        ]);
        return (await delivery.count()) > 0 ? state.textContent() : null;
      }, { timeout: 20_000 })
      .toBe('succeeded');
    expect(await delivery.textContent()).toContain('HTTP 200');
    await delivery.getByRole('button', { name: 'Attempts' }).click();
    await page.locator('.attempts li', { hasText: 'HTTP 200' }).waitFor();
    await page.screenshot({ path: `${SHOTS}/6-deliveries.png`, fullPage: true });

    await page.getByRole('navigation', { name: 'Survey' }).getByRole('link', { name: 'Respondents' }).click();
    const row = page.getByRole('table', { name: 'Respondents' }).getByRole('row').filter({ hasText: partner.user });
    await row.waitFor();
    expect(await row.getByRole('cell').nth(2).textContent()).toBe('completed');
    expect(await row.textContent()).toContain('Ada Lovelace');
    await page.screenshot({ path: `${SHOTS}/7-respondents.png`, fullPage: true });
    await context.close();
  });
});
