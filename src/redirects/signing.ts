/**
 * Link signing, inBrain style, for redirects out and entry links in:
 *   hash = base64url(HMAC-SHA256(key = UTF-8 bytes of the secret, message = UTF-8 bytes of the
 *          URL exactly as sent, without the hash parameter)), "=" padding removed,
 * appended as the last query parameter (`&hash=…`, or `?hash=…` when the URL has no query).
 * Verification takes the string before the final `&hash=`/`?hash=` and recomputes; the
 * comparison is constant-time. docs/redirects.md has a worked example.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function linkHash(secret: string, message: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(message, 'utf8')).digest('base64url');
}

/** Where the last `hash` parameter starts (index of its '?' or '&'), or -1. */
function hashParamAt(url: string): number {
  return Math.max(url.lastIndexOf('&hash='), url.lastIndexOf('?hash='));
}

/**
 * Appends `hash` as the last parameter of `url`. A trailing "?" or "&" is dropped first, so
 * the signed string is always exactly what precedes "&hash=" / "?hash=" in the result.
 */
export function signUrl(url: string, secret: string): string {
  const base = url.replace(/[?&]+$/, '');
  return `${base}${base.includes('?') ? '&' : '?'}hash=${linkHash(secret, base)}`;
}

/** Removes the hash parameter when it is the last one (re-signing a signed link). */
export function stripHash(url: string): string {
  const at = hashParamAt(url);
  if (at < 0 || /[&#]/.test(url.slice(at + 1))) return url;
  return url.slice(0, at);
}

export type LinkCheck = 'valid' | 'missing' | 'invalid';

/**
 * Checks a signed URL (`missing`: no hash parameter, or an empty one; `invalid`: a hash that
 * is not the last parameter, or does not match). For entry links the URL is PUBLIC_URL +
 * the request's path and query, exactly as received.
 */
export function verifyLink(url: string, secret: string): LinkCheck {
  const at = hashParamAt(url);
  if (at < 0) return 'missing';
  const given = url.slice(at + 6);
  if (given === '') return 'missing';
  // The hash must be the last parameter: anything after it would be unsigned.
  if (/[&#]/.test(given)) return 'invalid';
  // And introduced the way signUrl does it ("&" after a query, "?" without one), so the
  // signed string and the URL a parser sees stay the same thing.
  const base = url.slice(0, at);
  if (url[at] !== (base.includes('?') ? '&' : '?')) return 'invalid';
  const expected = Buffer.from(linkHash(secret, url.slice(0, at)), 'utf8');
  const actual = Buffer.from(given, 'utf8');
  if (actual.length !== expected.length) {
    timingSafeEqual(expected, expected); // same work either way
    return 'invalid';
  }
  return timingSafeEqual(actual, expected) ? 'valid' : 'invalid';
}

/** Entry-link form of verifyLink: `fullUrl` is PUBLIC_URL + path + query as received. */
export const verifyEntryLink = (fullUrl: string, secret: string): LinkCheck => verifyLink(fullUrl, secret);
