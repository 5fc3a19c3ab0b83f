/**
 * Real-browser tests: Debian's headless Chromium driven by playwright-core, with the flags
 * every browser test uses, and the third party's side of signed links as docs/redirects.md
 * tells integrators to write it (its own HMAC code, not ours, so a test proves the contract).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from './cli.ts';
import { setupApp } from './app.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium; fails with how to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  expect(existsSync(CHROMIUM), 'install Chromium: apt-get install -y chromium').toBe(true);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A third party's signing and verification of links with a shared secret (inBrain's `hash`). */
export function partnerSigning(secret: string) {
  const hashOf = (s: string) => createHmac('sha256', secret).update(s).digest('base64url');
  return {
    sign(url: string): string {
      return `${url}${url.includes('?') ? '&' : '?'}hash=${hashOf(url)}`;
    },
    /** The full URL as received: `hash` last, over everything before its separator. */
    verify(fullUrl: string): boolean {
      const at = Math.max(fullUrl.lastIndexOf('&hash='), fullUrl.lastIndexOf('?hash='));
      if (at < 0) return false;
      const given = fullUrl.slice(at + 6);
      if (given === '' || /[&#]/.test(given)) return false;
      const a = Buffer.from(given);
      const b = Buffer.from(hashOf(fullUrl.slice(0, at)));
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}

/**
 * The admin console under test: the app listening on a free loopback port (PUBLIC_URL set to
 * it), one Chromium for the file, pages that fail on any page error, and the console's sign-in.
 * Call at the top of a test file (it registers the file's hooks).
 */
export async function consoleTestBed() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const ctx = setupApp({ env: { PUBLIC_URL: base, LOG_LEVEL: 'warn' } });
  let browser: Browser | undefined;
  beforeAll(async () => {
    await ctx.app().listen({ port, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    ctx,
    base,
    /** Where screenshots go (to look at them; not kept by the suite). */
    shots: process.env.ADMIN_SCREENSHOTS ?? '/tmp',
    async newPage(width: number, opts: { acceptDownloads?: boolean } = {}): Promise<Page> {
      const context = await browser!.newContext({ viewport: { width, height: 900 }, acceptDownloads: opts.acceptDownloads ?? false });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      // A page error is a bug in the console: fail loudly rather than show a blank page.
      page.on('pageerror', (e) => {
        throw e;
      });
      return page;
    },
    async signIn(page: Page, email: string, password: string) {
      await page.goto(`${base}/admin`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Surveys' }).waitFor();
    },
  };
}
