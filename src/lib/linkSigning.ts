/**
 * inBrain-style link signing: `hash` = base64url(HMAC-SHA256(secret, the whole URL so far)),
 * padding removed, appended as the last query parameter. Verification strips `&hash=…`
 * (or `?hash=…`) from the end and recomputes. Used for signed entry links (auth URLs) and
 * signed redirects out.
 */
import { hmacSha256, safeEqual } from './crypto.ts';

export function linkHash(url: string, secret: string): string {
  return hmacSha256(secret, url).toString('base64url');
}

export function signUrl(url: string, secret: string): string {
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}hash=${linkHash(url, secret)}`;
}

/** 'missing' when there is no trailing hash parameter, 'invalid' when it does not match. */
export function verifySignedUrl(url: string, secret: string): 'valid' | 'missing' | 'invalid' {
  const m = /[?&]hash=([^&#]*)$/.exec(url);
  if (!m) return 'missing';
  const signed = url.slice(0, m.index);
  return safeEqual(m[1], linkHash(signed, secret)) ? 'valid' : 'invalid';
}
