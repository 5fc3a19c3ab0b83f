import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { linkHash, signUrl, stripHash, verifyEntryLink, verifyLink } from '../../src/redirects/signing.ts';

const SECRET = 's3cr3t-shared-with-partner';
const URL_SO_FAR = 'https://exampleclient.com/success?surveyId=58f12ab5&entrySurveyId=58f12ab5&userId=xyz&mid=MS4wSM8xLjUx&reward=10&rewardId=1d16f66e-9b7a-44fa-840e-8ec8afb4d60e';
/** Computed with Python's hmac module (docs/redirects.md shows the same example). */
const EXPECTED_HASH = 'gb-I7ve3dZAAbpUJneSc_HbG2TUqAA3xkw4e3s9LJro';

/** A second, independent implementation: Web Crypto HMAC + hand-made base64url. */
async function webCryptoHash(secret: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
  let bin = '';
  for (const b of sig) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

describe('link signing', () => {
  it('matches a fixed vector computed independently (Python hmac and Web Crypto)', async () => {
    expect(await webCryptoHash(SECRET, URL_SO_FAR)).toBe(EXPECTED_HASH);
    expect(linkHash(SECRET, URL_SO_FAR)).toBe(EXPECTED_HASH);
    expect(signUrl(URL_SO_FAR, SECRET)).toBe(`${URL_SO_FAR}&hash=${EXPECTED_HASH}`);
  });

  it('agrees with Web Crypto for any URL and secret, and uses no padding', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webUrl({ withQueryParameters: true }), fc.string({ minLength: 1, maxLength: 64 }), async (url, secret) => {
        const signed = signUrl(url, secret);
        const hash = signed.slice(signed.lastIndexOf('hash=') + 5);
        expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const base = signed.slice(0, signed.lastIndexOf('hash=') - 1);
        expect(hash).toBe(await webCryptoHash(secret, base));
        expect(verifyLink(signed, secret)).toBe('valid');
      }),
      { numRuns: 200 },
    );
  });

  it('puts hash last, with "?" when the URL has no query, and signs what precedes it', () => {
    const bare = signUrl('https://a.example/x', SECRET);
    expect(bare).toMatch(/^https:\/\/a\.example\/x\?hash=[A-Za-z0-9_-]{43}$/);
    expect(verifyLink(bare, SECRET)).toBe('valid');
    // A trailing "?" or "&" is dropped, so the signed string is exactly what precedes "?hash="/"&hash=".
    expect(signUrl('https://a.example/x?', SECRET)).toBe(bare);
    expect(verifyLink(signUrl('https://a.example/x?a=1&', SECRET), SECRET)).toBe('valid');
  });

  it('invalidates the link when any character is changed, added or removed', () => {
    const signed = signUrl(`${URL_SO_FAR}&extra=a%20b`, SECRET);
    fc.assert(
      fc.property(fc.nat({ max: signed.length - 1 }), fc.constantFrom(...'aZ09-_.%&=?/'.split('')), fc.constantFrom('replace', 'insert', 'delete'), (at, ch, how) => {
        let tampered: string;
        if (how === 'replace') {
          if (signed[at] === ch) return;
          tampered = signed.slice(0, at) + ch + signed.slice(at + 1);
        } else if (how === 'insert') tampered = signed.slice(0, at) + ch + signed.slice(at);
        else tampered = signed.slice(0, at) + signed.slice(at + 1);
        expect(verifyLink(tampered, SECRET)).not.toBe('valid');
      }),
      { numRuns: 1000 },
    );
    // Exhaustively: every position, one substitution each.
    for (let i = 0; i < signed.length; i++) {
      const c = signed[i] === 'x' ? 'y' : 'x';
      expect(verifyLink(signed.slice(0, i) + c + signed.slice(i + 1), SECRET), `position ${i}`).not.toBe('valid');
    }
  });

  it('rejects another secret, a missing or empty hash, and a hash that is not last', () => {
    const signed = signUrl(URL_SO_FAR, SECRET);
    // Same signed content, other separator: a parser would not see the hash parameter at all.
    expect(verifyLink(signed.replace('&hash=', '?hash='), SECRET)).toBe('invalid');
    expect(verifyLink(signUrl('https://a.example/x', SECRET).replace('?hash=', '&hash='), SECRET)).toBe('invalid');
    expect(verifyLink(signed, 'another-secret-entirely')).toBe('invalid');
    expect(verifyLink(URL_SO_FAR, SECRET)).toBe('missing');
    expect(verifyLink(`${URL_SO_FAR}&hash=`, SECRET)).toBe('missing');
    expect(verifyLink(`${signed}&more=1`, SECRET)).toBe('invalid');
    expect(verifyLink(`${signed}#frag`, SECRET)).toBe('invalid');
  });

  it('re-signs by stripping a trailing hash only', () => {
    const signed = signUrl(URL_SO_FAR, SECRET);
    expect(stripHash(signed)).toBe(URL_SO_FAR);
    expect(stripHash(URL_SO_FAR)).toBe(URL_SO_FAR);
    expect(stripHash('https://a.example/?hash=abc&x=1')).toBe('https://a.example/?hash=abc&x=1');
    expect(signUrl(stripHash(signed), SECRET)).toBe(signed);
  });

  it('verifies entry links as PUBLIC_URL + path + query', () => {
    const entry = signUrl('http://127.0.0.1:3000/surveys/diet?auth=abc123&mid=MS4w', SECRET);
    expect(verifyEntryLink(entry, SECRET)).toBe('valid');
    expect(verifyEntryLink('http://127.0.0.1:3000/surveys/diet?auth=abc123', SECRET)).toBe('missing');
    expect(verifyEntryLink(entry.replace('abc123', 'abc124'), SECRET)).toBe('invalid');
    expect(verifyEntryLink(entry.replace('http://127.0.0.1:3000', 'https://other.example'), SECRET)).toBe('invalid');
  });
});

describe('sign-link / verify-link handlers (in process; test/e2e/redirect-cli.test.ts runs the binary)', () => {
  async function run(handler: (args: string[]) => Promise<number>, args: string[]) {
    const { vi } = await import('vitest');
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      return { code: await handler(args), out };
    } finally {
      spy.mockRestore();
    }
  }

  it('signs, verifies, and raises UsageError (exit 2) for bad usage', async () => {
    const { signLinkCommand, verifyLinkCommand } = await import('../../src/redirects/cli.ts');
    const { UsageError } = await import('../../src/cli/usage.ts');
    expect(await run(signLinkCommand, [URL_SO_FAR, '--secret', SECRET])).toEqual({ code: 0, out: `${URL_SO_FAR}&hash=${EXPECTED_HASH}\n` });
    expect((await run(verifyLinkCommand, [`${URL_SO_FAR}&hash=${EXPECTED_HASH}`, '--secret', SECRET])).code).toBe(0);
    expect((await run(verifyLinkCommand, [`${URL_SO_FAR}&hash=${EXPECTED_HASH}x`, '--secret', SECRET])).code).toBe(1);
    for (const args of [[URL_SO_FAR], ['--secret', SECRET], ['a', 'b', '--secret', SECRET], ['not a url', '--secret', SECRET], ['mailto:a@b.c', '--secret', SECRET], [URL_SO_FAR, '--secret', SECRET, '--x']]) {
      const saved = process.env.LINK_SIGNING_SECRET;
      delete process.env.LINK_SIGNING_SECRET;
      try {
        await expect(verifyLinkCommand(args), args.join(' ')).rejects.toBeInstanceOf(UsageError);
      } finally {
        if (saved !== undefined) process.env.LINK_SIGNING_SECRET = saved;
      }
    }
  });
});
