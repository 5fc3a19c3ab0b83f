/**
 * Real-browser tests: Debian's headless Chromium driven by playwright-core, with the flags
 * every browser test uses, and the third party's side of signed links as docs/redirects.md
 * tells integrators to write it (its own HMAC code, not ours, so a test proves the contract).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { chromium, type Browser } from 'playwright-core';

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
