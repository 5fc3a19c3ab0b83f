import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTemplate, renderTokens, strictEncode } from '../../src/redirects/template.ts';
import { captureEntryParams } from '../../src/redirects/entryParams.ts';

function render(template: string, values: Record<string, string>): string {
  const parsed = parseTemplate(template);
  expect(parsed.errors).toEqual([]);
  return renderTokens(parsed.tokens, (k) => values[k]);
}

/** Any string, including unpaired surrogates' well-formed neighbours, controls, '&', '=', '#', '%', '/', '?'. */
const anyValue = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('&', '=', '#', '%', '/', '?', '+', ' ', '.', '\\', ':', '@', '[', ']', '\n', 'a'), maxLength: 20 }),
);

describe('redirect templates: rendering', () => {
  it('round-trips any value through the URL query parser, never adding a parameter or changing host or path', () => {
    fc.assert(
      fc.property(anyValue, anyValue, (a, b) => {
        const out = render('https://partner.example/cb/done?u={username}&x=1&c={custom:note}', { username: a, 'custom:note': b });
        const url = new URL(out);
        expect(url.origin).toBe('https://partner.example');
        expect(url.pathname).toBe('/cb/done');
        expect([...url.searchParams.keys()]).toEqual(['u', 'x', 'c']);
        expect(url.searchParams.get('u')).toBe(a);
        expect(url.searchParams.get('c')).toBe(b);
        expect(url.hash).toBe('');
        // What we emit is already canonical: browsers will not rewrite (and so break the signature of) it.
        expect(url.href).toBe(out);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a path placeholder inside its one segment, whatever the value', () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        const out = render('https://partner.example/users/{username}/done', { username: v });
        const url = new URL(out);
        expect(url.origin).toBe('https://partner.example');
        const segments = url.pathname.split('/');
        expect(segments).toHaveLength(4);
        expect(segments[1]).toBe('users');
        expect(segments[3]).toBe('done');
        expect(url.search).toBe('');
        if (v !== '.' && v !== '..') expect(decodeURIComponent(segments[2])).toBe(v);
      }),
      { numRuns: 500 },
    );
    // Dot segments would be collapsed by URL parsers (changing the path), so they render empty.
    expect(render('https://p.example/a/{username}/b', { username: '..' })).toBe('https://p.example/a//b');
    expect(render('https://p.example/a/{username}{l1}/b', { username: '.', l1: '.' })).toBe('https://p.example/a//b');
    expect(render('https://p.example/a/.{username}/b', { username: '.' })).toBe('https://p.example/a//b');
    expect(render('https://p.example/a/x{username}/b', { username: '.' })).toBe('https://p.example/a/x./b');
  });

  it('encodes every byte outside the unreserved set, UTF-8 first', () => {
    expect(strictEncode("a b&c=d/é~'")).toBe('a%20b%26c%3Dd%2F%C3%A9~%27');
    expect(strictEncode('\ud800')).toBe('%EF%BF%BD'); // a lone surrogate becomes U+FFFD rather than throwing
    expect(render('https://p.example/?u=[intake24_username_value]&i=[ID_RESPONDENT]', { username: 'a+b', respondentId: '7' })).toBe('https://p.example/?u=a%2Bb&i=7');
  });

  it('fills every occurrence and renders a missing value empty', () => {
    expect(render('https://p.example/{username}?a={username}&b={l3}&c={entry:mid}', { username: 'u1' })).toBe('https://p.example/u1?a=u1&b=&c=');
  });

  it('knows every documented placeholder and canonicalises the aliases', () => {
    const all = '{username}[intake24_username_value][ID_RESPONDENT]{respondentId}{userId}{identifier}{survey}{outcome}{status}{reward}{rewardId}'
      + '{l1}{l2}{l3}{l4}{l5}{l6}{l7}{l8}{l9}{l10}{custom:dept}{entry:mid}';
    const parsed = parseTemplate(`https://p.example/?v=${all}`);
    expect(parsed.errors).toEqual([]);
    const keys = parsed.tokens.flatMap((t) => (t.kind === 'placeholder' ? [t.key] : []));
    expect(keys).toEqual([
      'username', 'username', 'respondentId', 'respondentId', 'respondentId', 'identifier', 'survey', 'outcome', 'status', 'reward', 'rewardId',
      'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10', 'custom:dept', 'entry:mid',
    ]);
    expect(parsed.entryParams).toEqual(['mid']);
  });
});

describe('redirect templates: what is refused', () => {
  const errorsOf = (t: string) => parseTemplate(t).errors.join(' | ');

  it('names unknown placeholders', () => {
    expect(errorsOf('https://p.example/?u={usrname}')).toContain('unknown placeholder {usrname}');
    expect(errorsOf('https://p.example/?u={custom:}')).toContain('unknown placeholder {custom:}');
    expect(errorsOf('https://p.example/?u={username')).toContain('unknown placeholder "{username');
    expect(errorsOf('https://p.example/?u=}')).toContain('unknown placeholder');
  });

  it('refuses placeholders in the scheme, host, port or fragment, and fragments at all', () => {
    expect(errorsOf('https://{username}.p.example/')).toContain('scheme, host or port');
    expect(errorsOf('https://p.example:{status}/')).toContain('scheme, host or port');
    expect(errorsOf('https://p.example/#{username}')).toContain('fragment');
    expect(errorsOf('https://p.example/x#done')).toContain('fragment');
  });

  it('accepts only http and https, without credentials', () => {
    expect(errorsOf('javascript:alert(1)')).toContain('http');
    expect(errorsOf('ftp://p.example/')).toContain('http');
    expect(errorsOf('//p.example/')).toContain('http');
    expect(errorsOf('https://user:pw@p.example/')).toContain('user name or password');
    expect(errorsOf('HTTPS://P.example/ok?x={username}')).toBe('');
    expect(errorsOf('http://[::1]:8080/ok')).toBe('');
  });
});

describe('entry parameter capture', () => {
  it('keeps whitelisted names with short safe values only', () => {
    const long = 'a'.repeat(256);
    expect(captureEntryParams({ mid: 'MS4wSM8xLjUx', other: 'x', sub: ['a-1', 'b-2'], bad: '<script>', big: `${long}a`, ok: long, empty: '' }, ['mid', 'sub', 'bad', 'big', 'ok', 'empty', 'absent']))
      .toEqual({ mid: 'MS4wSM8xLjUx', sub: 'a-1', ok: long });
    expect(captureEntryParams({ mid: 'x' }, undefined)).toEqual({});
    expect(captureEntryParams(undefined, ['mid'])).toEqual({});
  });

  it('never captures a value outside A-Za-z0-9_-.', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (v) => {
        const got = captureEntryParams({ mid: v }, ['mid']);
        if (got.mid !== undefined) expect(got.mid).toMatch(/^[A-Za-z0-9_.-]{1,256}$/);
        else expect(/^[A-Za-z0-9_.-]{1,256}$/.test(v)).toBe(false);
      }),
    );
  });

  it('does not read inherited properties', () => {
    expect(captureEntryParams({}, ['constructor', 'toString', '__proto__'])).toEqual({});
  });
});
