/**
 * The admin console in a real browser (playwright-core + Debian Chromium) against the real
 * server: sign in, create a survey, generate a secret (shown once, then "set"), see the API's
 * field errors next to their fields, find the survey in the list, read-only UI for a viewer,
 * sign out. Screenshots go to /tmp (1024 and 390 px wide).
 */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { consoleTestBed } from '../helpers/browser.ts';
import { unique } from '../helpers/app.ts';

const bed = await consoleTestBed();
const { ctx, base, newPage, signIn } = bed;
const SHOTS = bed.shots;

describe('admin console', () => {
  it('signs in, creates a survey, sets a secret, shows field errors, lists it, signs out', async () => {
    const admin = await ctx.newAdmin();
    const page = await newPage(1024);

    // A wrong password shows the API's message on the sign-in form.
    await page.goto(`${base}/admin`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/\S/);

    await signIn(page, admin.email, admin.password);
    await page.getByText('No surveys yet').waitFor();
    // Keyboard: the first Tab reaches the skip link, the next ones the header, with a visible focus ring.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Surveys');
    await page.screenshot({ path: `${SHOTS}/admin-focus-1024.png` });

    // Create: the slug follows the name.
    const name = `Brand study ${unique('x')}`;
    await page.getByRole('link', { name: 'New survey' }).click();
    await page.getByRole('heading', { level: 1, name: 'New survey' }).waitFor();
    await page.getByLabel('Name').fill(name);
    const slug = await page.getByLabel('Slug').inputValue();
    expect(slug).toMatch(/^brand-study-/);
    await page.getByRole('button', { name: 'Create survey' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    expect(page.url()).toBe(`${base}/admin/surveys/${slug}/settings`);

    // Generate the JWT secret: shown once with a copy button, then "set"; never read back.
    const jwt = page.locator('[data-secret="jwtSecret"]');
    expect(await jwt.getByTestId('jwtSecret-status').textContent()).toBe('not set');
    await jwt.getByRole('button', { name: 'Generate' }).click();
    await jwt.getByTestId('shown-once').waitFor();
    const secret = (await jwt.getByTestId('shown-once').textContent()) ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(32);
    await expect.poll(() => jwt.getByTestId('jwtSecret-status').textContent()).toBe('set');
    await jwt.getByRole('button', { name: 'Copy' }).waitFor();
    const stored = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
    expect(stored.json()).toMatchObject({ jwtSecretSet: true });
    expect(stored.body).not.toContain(secret);
    await page.screenshot({ path: `${SHOTS}/admin-settings-1024.png`, fullPage: true });

    // A bad setting: the API's message appears next to its field; nothing is saved.
    const completedUrl = page.getByRole('textbox', { name: 'URL' }).first();
    await completedUrl.fill('ftp://panel.example/done');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.has-error .field-error').first().waitFor();
    expect(await completedUrl.getAttribute('aria-invalid')).toBe('true');
    await page.locator('.savebar [role="alert"]').waitFor();

    // A good one saves, and the state change shows in the header.
    await completedUrl.fill('https://panel.example/done?u={username}');
    await page.getByLabel('State').selectOption('active');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    const saved = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
    expect(saved.json()).toMatchObject({ state: 'active', outcomeUrls: { completed: 'https://panel.example/done?u={username}' } });

    // Redirect preview: the server computes the URL for an outcome and a respondent.
    await page.getByLabel('Respondent (username)').fill('panel-42');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('.preview-result code', { hasText: 'https://panel.example/done?u=panel-42' }).waitFor();

    // The list shows it, with the secret as "set" (keyboard: the nav link is reachable and works).
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Surveys' }).focus();
    await page.keyboard.press('Enter');
    const row = page.getByRole('row').filter({ hasText: name });
    await row.waitFor();
    expect(await row.textContent()).toContain('set');
    expect(await row.textContent()).toContain('active');
    await page.screenshot({ path: `${SHOTS}/admin-surveys-1024.png`, fullPage: true });

    // Narrow screen: the same list, stacked.
    await page.setViewportSize({ width: 390, height: 844 });
    await row.waitFor();
    await page.screenshot({ path: `${SHOTS}/admin-surveys-390.png`, fullPage: true });
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('State').waitFor();
    await page.screenshot({ path: `${SHOTS}/admin-settings-390.png` });
    await page.locator('#sec-redirects').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/admin-settings-390-redirects.png` });

    // A taken slug: the API's message is shown.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Surveys' }).click();
    await page.getByRole('link', { name: 'New survey' }).click();
    await page.getByLabel('Name').fill('Duplicate');
    await page.getByLabel('Slug').fill(slug);
    await page.getByRole('button', { name: 'Create survey' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('taken');

    // Sign out: back to the sign-in form, and the session no longer works.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Surveybridge' }).waitFor();
    await page.getByText('You have signed out.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Surveybridge' }).waitFor();
    await page.context().close();
  });

  it('switches accounts, shows a viewer the settings read-only, and manages API tokens and inbound keys', async () => {
    const owner = await ctx.newAdmin();
    const slug = await ctx.newSurvey(owner);
    // A user who owns an account of their own and is a viewer in the owner's account.
    const multi = await ctx.newAdmin();
    await ctx.services().accounts.createUser({ email: multi.email, password: multi.password, role: 'viewer', accountId: owner.accountId });
    const page = await newPage(1024);
    await signIn(page, multi.email, multi.password);
    await page.getByLabel('Account').selectOption(String(owner.accountId));
    await page.getByRole('link', { name: `Survey ${slug}` }).waitFor();
    expect(await page.locator('.topbar .badge').textContent()).toBe('viewer');
    await page.getByRole('link', { name: `Survey ${slug}` }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByText('this page is read-only').waitFor();
    expect(await page.getByLabel('Name').isDisabled()).toBe(true);
    expect(await page.locator('[data-secret="jwtSecret"]').getByRole('button', { name: 'Generate' }).isDisabled()).toBe(true);
    expect(await page.getByRole('link', { name: 'New survey' }).count()).toBe(0);
    // Viewers have no tokens or users pages in the navigation.
    expect(await page.getByRole('link', { name: 'API tokens' }).count()).toBe(0);
    await page.context().close();

    // The owner creates an API token (shown once) and revokes it.
    const ownerPage = await newPage(1024);
    await signIn(ownerPage, owner.email, owner.password);
    await ownerPage.getByRole('link', { name: 'API tokens' }).click();
    await ownerPage.getByLabel('Name').fill('CRM sync');
    await ownerPage.getByRole('button', { name: 'Create token' }).click();
    const token = (await ownerPage.getByTestId('shown-once').textContent()) ?? '';
    expect(token).toMatch(/^sbt_/);
    await ownerPage.getByRole('button', { name: 'Done' }).click();
    const tokenRow = ownerPage.getByRole('row').filter({ hasText: 'CRM sync' });
    await tokenRow.waitFor();
    ownerPage.once('dialog', (d) => void d.accept());
    await tokenRow.getByRole('button', { name: 'Revoke CRM sync' }).click();
    await tokenRow.waitFor({ state: 'detached' });
    const used = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } });
    expect(used.statusCode).toBe(401);

    // Inbound keys: the URLs per webhook name are shown once, ready to copy.
    await ownerPage.getByRole('link', { name: 'Inbound' }).click();
    await ownerPage.getByLabel('Name (optional)').fill('CRM');
    await ownerPage.getByRole('button', { name: 'Create key' }).click();
    const inboundUrl = (await ownerPage.getByTestId('inbound-url-update-respondent').textContent()) ?? '';
    expect(inboundUrl).toMatch(new RegExp(`^${base}/webhooks/${owner.accountId}/[^/]+/[^/]+/update-respondent$`));
    await ownerPage.getByRole('table', { name: 'Inbound keys' }).getByText('CRM').waitFor();
    await ownerPage.screenshot({ path: `${SHOTS}/admin-inbound-1024.png`, fullPage: true });

    // Users: add a reviewer, then make them an admin.
    const email = `${unique('reviewer')}@example.test`;
    await ownerPage.getByRole('link', { name: 'Users' }).click();
    await ownerPage.getByLabel('Email').fill(email);
    await ownerPage.getByLabel('Initial password').fill('a-long-password');
    await ownerPage.getByLabel('Role', { exact: true }).selectOption('reviewer');
    await ownerPage.getByRole('button', { name: 'Add user' }).click();
    await ownerPage.getByText(`${email} was added as reviewer.`).waitFor();
    await ownerPage.getByLabel(`Role of ${email}`).selectOption('admin');
    await ownerPage.getByText(`${email} is now admin.`).waitFor();
    await ownerPage.setViewportSize({ width: 390, height: 844 });
    await ownerPage.screenshot({ path: `${SHOTS}/admin-users-390.png`, fullPage: true });
    await ownerPage.context().close();
  });
});

describe('admin console: survey pages', () => {
  it('edits the definition, adds and imports respondents, and tests a webhook endpoint', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, {
      state: 'active',
      reviewLevels: [{ id: 'checked', seq: 1, name: 'Checked', lock: false, roles: ['owner', 'admin'] }],
    });
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const page = await newPage(1024);
    try {
      await signIn(page, admin.email, admin.password);
      await page.goto(`${base}/admin/surveys/${slug}/definition`);
      await page.getByText('No definition saved yet.').waitFor();

      // Definition: a choice question without options is refused, the error sits next to the field.
      await page.getByRole('button', { name: 'Add a question' }).click();
      await page.getByLabel('Question text').fill('Do you own a car?');
      await page.getByLabel('Type').selectOption('single');
      await page.getByRole('button', { name: 'Save as a new version' }).click();
      await page.locator('.has-error .field-error', { hasText: 'needs options' }).waitFor();
      await page.screenshot({ path: `${SHOTS}/admin-definition-1024.png`, fullPage: true });
      await page.getByLabel('Options').fill('yes = Yes\nno = No');
      await page.getByRole('button', { name: 'Save as a new version' }).click();
      await page.getByText('Saved as version 1.').waitFor();
      await page.getByRole('link', { name: 'Records' }).click();
      await page.getByText('No records.').waitFor();

      // Respondents: add one, then see it in the list with a copyable auth URL.
      await page.getByRole('link', { name: 'Respondents' }).click();
      await page.getByText('No respondents match.').waitFor();
      await page.getByText('Add a respondent').click();
      await page.getByLabel('Username', { exact: true }).fill('panel-001');
      await page.getByRole('button', { name: 'Add respondent' }).click();
      await page.getByRole('row').filter({ hasText: 'panel-001' }).waitFor();

      // CSV import: a bad row shows the row error table and writes nothing; a good file imports.
      const file = page.getByLabel('CSV file');
      await file.setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('username,email\npanel-002,ok@example.test\npanel-003,not-an-email\n') });
      await page.getByRole('button', { name: 'Upload CSV' }).click();
      const rowErrors = page.getByRole('table', { name: 'Row errors' });
      await rowErrors.waitFor();
      expect(await rowErrors.textContent()).toContain('3');
      expect(await rowErrors.textContent()).toContain('email');
      await page.screenshot({ path: `${SHOTS}/admin-respondents-1024.png`, fullPage: true });
      // The progress bar: the first poll of the job answers "running" (held until the test saw
      // the bar, so a fast import cannot race past it); later polls reach the server.
      let sawProgress!: () => void;
      const progressSeen = new Promise<void>((r) => (sawProgress = r));
      let polls = 0;
      await page.route('**/api/admin/jobs/*', async (route) => {
        if (polls++ === 0) {
          await route.fulfill({ json: { id: 'x', kind: 'respondents.import', state: 'running', phase: 'writing', processed: 40, total: 100, errors: [], result: null, createdAt: '', updatedAt: '' } });
        } else {
          await progressSeen;
          await route.continue();
        }
      });
      await file.setInputFiles({ name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from('username,email,l1\npanel-002,ok@example.test,wave-1\n') });
      await page.getByRole('button', { name: 'Upload CSV' }).click();
      await page.getByText('Writing: 40 of 100 rows').waitFor();
      expect(await page.getByRole('progressbar').getAttribute('value')).toBe('40');
      await page.screenshot({ path: `${SHOTS}/admin-import-progress-1024.png`, fullPage: true });
      sawProgress();
      await page.getByText('Imported: 1 created').waitFor();
      await page.unroute('**/api/admin/jobs/*');
      await page.getByRole('row').filter({ hasText: 'panel-002' }).waitFor();
      const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download auth URLs (CSV)' }).click()]);
      expect(csv.suggestedFilename()).toBe(`${slug}-respondents.csv`);

      // Respondent detail: edit a label, rotate the token (the auth URL changes).
      await page.getByRole('table', { name: 'Respondents' }).getByRole('link', { name: 'panel-001' }).click();
      const authUrl = page.locator('code', { hasText: '/surveys/' }).first();
      const before = await authUrl.textContent();
      await page.getByLabel('l2', { exact: true }).fill('vip');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Rotate auth token' }).click();
      await page.getByText('The auth token was rotated').waitFor();
      expect(await authUrl.textContent()).not.toBe(before);

      // Webhooks: add an endpoint to the local receiver, send a test event, see the attempt inline.
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('button', { name: 'Add an endpoint' }).click();
      await page.getByLabel('URL', { exact: true }).fill(receiverUrl);
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByTestId('shown-once').waitFor();
      await page.getByRole('button', { name: 'Send test event' }).click();
      const attempt = page.getByTestId('test-attempt');
      await attempt.waitFor();
      expect(await attempt.textContent()).toContain('HTTP 200');
      expect(received.some((b) => b.includes('ping'))).toBe(true);
      await page.getByRole('link', { name: 'Deliveries' }).click();
      const delivery = page.getByRole('row').filter({ hasText: 'ping' });
      await delivery.waitFor();
      await delivery.getByRole('button', { name: 'Attempts' }).click();
      await page.locator('.attempts li', { hasText: 'HTTP 200' }).waitFor();
      await page.screenshot({ path: `${SHOTS}/admin-deliveries-1024.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: `${SHOTS}/admin-deliveries-390.png`, fullPage: true });

      // Records: panel-001 answers and submits (through the respondent API); the admin sees the
      // record with its answers and moves it to a review level.
      await page.setViewportSize({ width: 1024, height: 900 });
      const api = `/api/surveys/${slug}`;
      const { authToken } = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/panel-001`, headers: admin.headers })).json();
      const { accessToken } = (await ctx.inject({ method: 'POST', url: `${api}/auth`, payload: { token: authToken } })).json();
      const respondent = { authorization: `Bearer ${accessToken}` };
      expect((await ctx.inject({ method: 'PUT', url: `${api}/session/answers`, headers: respondent, payload: { answers: { q1: 'yes' } } })).statusCode).toBe(200);
      expect((await ctx.inject({ method: 'POST', url: `${api}/session/submit`, headers: respondent, payload: {} })).statusCode).toBe(200);
      await page.getByRole('link', { name: 'Records' }).click();
      const recordRow = page.getByRole('row').filter({ hasText: 'panel-001' });
      await recordRow.waitFor();
      expect(await recordRow.textContent()).toContain('Completed');
      await recordRow.getByRole('link').click();
      await page.locator('.pairs', { hasText: 'Do you own a car?' }).waitFor();
      await page.getByLabel('Move to').selectOption('checked');
      await page.getByRole('button', { name: 'Move', exact: true }).click();
      await page.getByText('Moved to Checked.').waitFor();
      await page.screenshot({ path: `${SHOTS}/admin-record-1024.png`, fullPage: true });

      // The dashboard counts respondents by status and the last 24 h of deliveries.
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await expect.poll(() => page.getByTestId('count-completed').textContent()).toBe('1');
      expect(await page.getByTestId('count-created').textContent()).toBe('1');
      await page.getByRole('heading', { name: 'Webhook deliveries, last 24 h' }).waitFor();
      await page.screenshot({ path: `${SHOTS}/admin-dashboard-1024.png`, fullPage: true });
    } finally {
      await page.context().close();
      await new Promise((r) => receiver.close(r));
    }
  });
});
