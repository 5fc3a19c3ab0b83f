/**
 * The admin console's panel-mode pages in a real browser (playwright-core + Debian Chromium)
 * against the real server: the "Panel mode" settings (replacements, attempts, test termination,
 * entry screening, catalogue status codes) save and survive a reload; keys the page does not
 * show (a catalogue or custom status code, an extra reward) survive a save from the page; the
 * API's field errors appear next to their rows; the rewards export downloads; the blocklist page
 * adds and removes entries, read-only for a viewer. Screenshots: /tmp/admin-panel-*.png.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { consoleTestBed } from '../helpers/browser.ts';
import type { TestAdmin } from '../helpers/app.ts';

const bed = await consoleTestBed();
const { ctx, base } = bed;
const SHOTS = bed.shots;
const newPage = (width: number) => bed.newPage(width, { acceptDownloads: true });
const signIn = (page: Page, who: TestAdmin) => bed.signIn(page, who.email, who.password);

const getSurvey = async (admin: TestAdmin, slug: string) => (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers })).json();

describe('admin console: panel mode', () => {
  it('saves the panel settings, keeps the keys it does not show, shows field errors, exports rewards', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { state: 'active' });
    const second = await ctx.newSurvey(admin);
    const third = await ctx.newSurvey(admin);
    // Set through the API before the page is opened: a catalogue-name and a custom status code,
    // an outcome code, a reward that is a string and a reward under a key that is no outcome.
    const pre = await ctx.inject({
      method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers,
      payload: { statusCodes: { banned: 44, custom_x: 77, disqualified: 31 }, outcomeRewards: { completed: { reward: 'EUR 0.50' }, bonus: { reward: 2 } } },
    });
    expect(pre.statusCode).toBe(200);

    const page = await newPage(1024);
    try {
      await signIn(page, admin);
      await page.goto(`${base}/admin/surveys/${slug}/settings`);
      const panel = page.locator('#sec-panel');
      await panel.getByRole('heading', { name: 'Panel mode' }).waitFor();
      // The catalogue override set through the API is shown; the others show their default.
      expect(await panel.getByLabel('Banned (blocklist)', { exact: true }).inputValue()).toBe('44');
      expect(await panel.getByLabel('Survey closed', { exact: true }).getAttribute('placeholder')).toBe('6');
      expect(await panel.getByLabel('No replacement survey', { exact: true }).getAttribute('placeholder')).toBe('19');

      // Replacements: add two surveys of the account, then put the second one first.
      const adding = panel.getByLabel('Add a replacement');
      await adding.fill(second);
      await panel.getByRole('button', { name: 'Add', exact: true }).click();
      await adding.fill(third);
      await adding.press('Enter'); // adds; does not submit the settings form
      await panel.getByRole('button', { name: `Move ${third} up` }).click();
      expect(await panel.locator('.replacements li code').allTextContents()).toEqual([third, second]);

      await panel.getByLabel('Attempts per respondent').fill('3');
      await panel.getByLabel(/Terminate test respondents/).check();

      // Two screening rules: a parameter in a list, a label equal to a value.
      await panel.getByRole('button', { name: 'Add a screening rule' }).click();
      const rule1 = panel.getByTestId('rule-0');
      await rule1.getByLabel('Parameter name').fill('country');
      await rule1.getByLabel('Matches').selectOption('in');
      await rule1.getByLabel('Values (comma-separated)').fill('DE, FR');
      await rule1.getByLabel('Status', { exact: true }).fill('20');
      await panel.getByRole('button', { name: 'Add a screening rule' }).click();
      const rule2 = panel.getByTestId('rule-1');
      await rule2.getByLabel('Match on').selectOption('label');
      await rule2.getByLabel('Label', { exact: true }).selectOption('l2');
      await rule2.getByLabel('Value', { exact: true }).fill('vip');
      await rule2.getByLabel('Outcome').selectOption('quota_full');

      // Catalogue status codes (the statusCodes record is now sent whole).
      await panel.getByLabel('Test termination', { exact: true }).fill('28');
      await panel.getByLabel('No replacement survey', { exact: true }).fill('29');
      // And a reward: outcomeRewards is sent whole too.
      await page.locator('#sec-redirects').getByRole('textbox', { name: 'Reward' }).nth(1).fill('0');
      await page.screenshot({ path: `${SHOTS}/admin-panel-settings-1024.png`, fullPage: true });
      await panel.screenshot({ path: `${SHOTS}/admin-panel-section-1024.png` });

      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();

      // After a reload the page shows what was saved.
      await page.reload();
      await panel.getByLabel('Attempts per respondent').waitFor();
      expect(await panel.getByLabel('Attempts per respondent').inputValue()).toBe('3');
      expect(await panel.getByLabel(/Terminate test respondents/).isChecked()).toBe(true);
      expect(await panel.locator('.replacements li code').allTextContents()).toEqual([third, second]);
      expect(await panel.getByTestId('rule-0').getByLabel('Values (comma-separated)').inputValue()).toBe('DE, FR');
      expect(await panel.getByTestId('rule-1').getByLabel('Label', { exact: true }).inputValue()).toBe('l2');
      expect(await panel.getByLabel('Test termination', { exact: true }).inputValue()).toBe('28');

      // And the API has them, with every key the page did not show intact.
      const saved = await getSurvey(admin, slug);
      expect(saved).toMatchObject({
        replacements: [third, second],
        maxAttemptsPerRespondent: 3,
        terminateTestRespondents: true,
        entryScreening: [
          { when: { param: 'country' }, in: ['DE', 'FR'], status: 20 },
          { when: { label: 'l2' }, equals: 'vip', outcome: 'quota_full' },
        ],
      });
      expect(saved.statusCodes).toEqual({ banned: 44, custom_x: 77, disqualified: 31, testTermination: 28, noReplacement: 29 });
      expect(saved.outcomeRewards).toEqual({ completed: { reward: 'EUR 0.50' }, disqualified: { reward: 0 }, bonus: { reward: 2 } });

      // A bad parameter name (refused by the schema): the message sits under the field, without
      // the noise of the union's other branch.
      const param = panel.getByTestId('rule-0').getByLabel('Parameter name');
      await param.fill('bad name');
      await page.getByRole('button', { name: 'Save changes' }).click();
      const paramError = panel.getByTestId('rule-0').locator('.field-error');
      await paramError.waitFor();
      expect(await paramError.textContent()).toContain('must match pattern');
      expect(await paramError.textContent()).not.toContain('anyOf');
      expect(await param.getAttribute('aria-invalid')).toBe('true');
      await page.locator('.savebar [role="alert"]').waitFor();
      await param.fill('country');

      // A bad replacement (the survey itself, refused by the service): the message is on its row.
      await adding.fill(slug);
      await panel.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByRole('button', { name: 'Save changes' }).click();
      const selfRow = panel.getByTestId(`replacement-${slug}`);
      await selfRow.locator('.field-error', { hasText: 'is this survey itself' }).waitFor();
      await paramError.waitFor({ state: 'detached' });
      await page.locator('.savebar [role="alert"]').waitFor();
      expect((await getSurvey(admin, slug)).replacements).toEqual([third, second]);
      await selfRow.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SHOTS}/admin-panel-errors-1024.png` });

      // Narrow screen: the same section, stacked.
      await page.setViewportSize({ width: 390, height: 844 });
      const top = (l: Locator) => l.evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await top(panel);
      await page.screenshot({ path: `${SHOTS}/admin-panel-errors-390.png` });
      await top(panel.getByTestId('rule-0'));
      await page.screenshot({ path: `${SHOTS}/admin-panel-rules-390.png` });
      await top(panel.getByRole('group', { name: 'Status codes' }));
      await page.screenshot({ path: `${SHOTS}/admin-panel-codes-390.png` });
      await page.setViewportSize({ width: 1024, height: 900 });
      await page.getByRole('button', { name: 'Discard' }).click();
      await selfRow.waitFor({ state: 'detached' });

      // The rewards export downloads next to the records export.
      await page.getByRole('link', { name: 'Records' }).click();
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export rewards CSV' }).click()]);
      expect(file.suggestedFilename()).toBe(`${slug}-rewards.csv`);
      expect(readFileSync(await file.path(), 'utf8')).toMatch(/^record_id,user_id,username,outcome,status,reward/);
    } finally {
      await page.context().close();
    }
  });

  it('adds and removes blocklist entries; a viewer reads the list', async () => {
    const admin = await ctx.newAdmin();
    const viewer = await ctx.newAdmin('viewer', admin.accountId);
    const page = await newPage(1024);
    try {
      await signIn(page, admin);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Blocklist' }).click();
      await page.getByRole('heading', { level: 1, name: 'Blocklist' }).waitFor();
      await page.getByText('Nobody is blocked.').waitFor();

      await page.getByLabel('Identifier').fill('panel-bad-1');
      await page.getByLabel('Reason (optional)').fill('Fraudulent answers in wave 3');
      await page.getByRole('button', { name: 'Block', exact: true }).click();
      await page.getByText('panel-bad-1 is blocked.').waitFor();
      // An identifier with a slash round-trips through the DELETE path.
      await page.getByLabel('Identifier').fill('partner/42');
      await page.getByRole('button', { name: 'Block', exact: true }).click();
      await page.getByText('partner/42 is blocked.').waitFor();
      const table = page.getByRole('table', { name: 'Blocklist' });
      await table.getByRole('row').filter({ hasText: 'panel-bad-1' }).waitFor();
      expect(await table.getByRole('row').filter({ hasText: 'panel-bad-1' }).textContent()).toContain('Fraudulent answers in wave 3');
      const listed = (await ctx.inject({ method: 'GET', url: '/api/admin/blocklist', headers: admin.headers })).json();
      expect(listed.items.map((x: { identifier: string }) => x.identifier).sort()).toEqual(['panel-bad-1', 'partner/42']);
      await page.screenshot({ path: `${SHOTS}/admin-panel-blocklist-1024.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: `${SHOTS}/admin-panel-blocklist-390.png`, fullPage: true });
      await page.setViewportSize({ width: 1024, height: 900 });

      // A viewer sees the list, read-only.
      const viewerPage = await newPage(1024);
      try {
        await signIn(viewerPage, viewer);
        await viewerPage.getByRole('link', { name: 'Blocklist' }).click();
        await viewerPage.getByRole('table', { name: 'Blocklist' }).getByText('panel-bad-1').waitFor();
        await viewerPage.getByText('this page is read-only').waitFor();
        expect(await viewerPage.getByLabel('Identifier').isDisabled()).toBe(true);
        expect(await viewerPage.getByRole('button', { name: /^Unblock/ }).count()).toBe(0);
      } finally {
        await viewerPage.context().close();
      }

      // The admin removes both entries.
      await table.getByRole('button', { name: 'Unblock panel-bad-1' }).click();
      await page.getByText('panel-bad-1 is no longer blocked.').waitFor();
      await table.getByRole('row').filter({ hasText: 'panel-bad-1' }).waitFor({ state: 'detached' });
      await table.getByRole('button', { name: 'Unblock partner/42' }).click();
      await page.getByText('Nobody is blocked.').waitFor();
      const after = (await ctx.inject({ method: 'GET', url: '/api/admin/blocklist', headers: admin.headers })).json();
      expect(after.items).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
