/**
 * The respondent pages in a real browser (Debian Chromium through playwright-core), against a
 * real server on loopback: sign in with an auth URL, answer every question type, reload
 * (answers kept), submit, completion page; a screened-out path; password sign-in; closed page.
 * Screenshots go to /tmp, never into the repository.
 */
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { respondents } from '../../src/db/schema/index.ts';
import { hashPassword } from '../../src/lib/crypto.ts';
import { setupApp } from '../helpers/app.ts';
import { BASIC_DEFINITION, activeSurvey, newRespondent } from '../http/runtimeFixtures.ts';

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

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const SHOTS = '/tmp/surveybridge-shots';

describe('respondent pages in Chromium', () => {
  const ctx = setupApp({ env: { PUBLIC_URL: base } });
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await ctx.app().listen({ port, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function newPage(): Promise<Page> {
    // A phone-sized viewport: the pages must work at 360 px.
    const context = await browser.newContext({ viewport: { width: 360, height: 780 } });
    return context.newPage();
  }

  it('signs in with an auth URL, autosaves, keeps answers over a reload, submits and shows the completion page', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, BASIC_DEFINITION, { followUpUrl: 'https://panel.example/done' });
    const r = await newRespondent(ctx, slug);
    const page = await newPage();
    await page.goto(`${base}/surveys/${slug}?auth=${encodeURIComponent(r.token)}`);
    expect(new URL(page.url()).search).toBe('');
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Age').fill('36');
    await page.getByLabel('Blue').check();
    await page.getByLabel('Cat').check();
    await page.getByLabel('Dog').check();
    await page.getByRole('group', { name: 'Do you smoke?' }).getByLabel('No').check();
    await page.getByLabel('Date of birth').fill('1990-05-01');
    await page.getByLabel('Anything else?').fill('Nothing, thanks.');
    await expect.poll(() => page.locator('#form-status').textContent(), { timeout: 15_000 }).toBe('All changes saved');
    await page.screenshot({ path: `${SHOTS}/form.png`, fullPage: true });

    await page.reload();
    await expect.poll(() => page.getByLabel('Your name').inputValue(), { timeout: 15_000 }).toBe('Ada Lovelace');
    expect(await page.getByLabel('Age').inputValue()).toBe('36');
    expect(await page.getByLabel('Blue').isChecked()).toBe(true);
    expect(await page.getByLabel('Dog').isChecked()).toBe(true);
    expect(await page.getByLabel('Date of birth').inputValue()).toBe('1990-05-01');

    // Keyboard: the submit button is reachable and works with Enter.
    await page.getByRole('button', { name: 'Submit' }).focus();
    await page.keyboard.press('Enter');
    const outcome = page.locator('[data-outcome]');
    await outcome.waitFor({ timeout: 15_000 });
    expect(await outcome.getAttribute('data-outcome')).toBe('completed');
    expect(await outcome.textContent()).toContain('Thank you!');
    expect(await page.getByRole('link', { name: 'Continue' }).getAttribute('href')).toMatch(/^https:\/\/panel\.example\/done/);
    await page.screenshot({ path: `${SHOTS}/completed.png`, fullPage: true });

    await page.reload();
    await page.locator('[data-fresh="no"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('h2').textContent()).toBe('You have already taken part');
    const [row] = await ctx.services().database.db.select().from(respondents).where(eq(respondents.id, r.respondent.id));
    expect(row.status).toBe('completed');
    await page.context().close();
  });

  it('shows required-answer errors, then the screened-out page', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const r = await newRespondent(ctx, slug);
    const page = await newPage();
    await page.goto(`${base}/surveys/${slug}?auth=${encodeURIComponent(r.token)}`);
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByText('Please check 2 answers before submitting.').waitFor({ timeout: 15_000 });
    expect(await page.getByLabel('Your name').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: `${SHOTS}/errors.png`, fullPage: true });
    await page.getByLabel('Your name').fill('Kid');
    await page.getByLabel('Age').fill('200');
    await page.getByText('Enter 130 or less.').waitFor();
    await page.getByLabel('Age').fill('12');
    await page.getByRole('button', { name: 'Submit' }).click();
    const outcome = page.locator('[data-outcome]');
    await outcome.waitFor({ timeout: 15_000 });
    expect(await outcome.getAttribute('data-outcome')).toBe('disqualified');
    await page.screenshot({ path: `${SHOTS}/screened-out.png`, fullPage: true });
    await page.context().close();
  });

  it('signs in with a username and password, follows an immediate redirect, and shows a closed survey', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, { questions: [{ id: 'q', type: 'text', label: 'Say hi' }], completion: { redirectTimer: -1 } }, { followUpUrl: `${base}/healthz` });
    const r = await newRespondent(ctx, slug);
    await ctx.services().database.db.update(respondents).set({ passwordHash: await hashPassword('correct horse') }).where(eq(respondents.id, r.respondent.id));
    const page = await newPage();
    await page.goto(`${base}/surveys/${slug}`);
    await page.getByLabel('Username').fill(r.respondent.username);
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The username or password is not right.').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${SHOTS}/signin.png`, fullPage: true });
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Say hi').fill('hi');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL((u) => u.pathname === '/healthz', { timeout: 15_000 });

    await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { state: 'closed' } });
    await page.goto(`${base}/surveys/${slug}`);
    await page.locator('[data-page="closed"]').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${SHOTS}/closed.png`, fullPage: true });
    await page.context().close();
  });

  it('counts down before redirecting when the completion timer is positive (short link sign-in)', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin, { questions: [{ id: 'ok', type: 'boolean', label: 'Ready?' }], completion: { message: 'Done.', redirectTimer: 2 } }, { followUpUrl: `${base}/healthz` });
    const r = await newRespondent(ctx, slug);
    const page = await newPage();
    await page.goto(`${base}/a/${encodeURIComponent(r.token)}`);
    await page.getByLabel('Yes').check();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByText(/You will be taken back in \d second/).waitFor({ timeout: 15_000 });
    expect(await page.locator('.message').textContent()).toBe('Done.');
    await page.waitForURL((u) => u.pathname === '/healthz', { timeout: 15_000 });
    await page.context().close();
  });

  it('shows a protocol error when a sync hook fails, and clears it with Retry', async () => {
    let calls = 0;
    const receiver = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls += 1;
        res.statusCode = calls === 1 ? 503 : 200;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const admin = await ctx.newAdmin();
      const { slug } = await activeSurvey(ctx, admin, { questions: [{ id: 'q', type: 'text', label: 'Say hi' }] });
      const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/trialkit`;
      const hook = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url: hookUrl, events: ['record.inserted'], mode: 'sync', format: 'trialkit' } });
      expect(hook.statusCode, hook.body).toBe(201);
      const r = await newRespondent(ctx, slug);
      const page = await newPage();
      await page.goto(`${base}/surveys/${slug}?auth=${encodeURIComponent(r.token)}`);
      await page.getByLabel('Say hi').fill('hello');
      const alert = page.getByText('Protocol error.');
      await alert.waitFor({ timeout: 15_000 });
      await page.screenshot({ path: `${SHOTS}/protocol-error.png`, fullPage: true });
      await page.getByRole('button', { name: 'Retry', exact: true }).click();
      await alert.waitFor({ state: 'detached', timeout: 15_000 });
      expect(calls).toBe(2);
      await page.context().close();
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
