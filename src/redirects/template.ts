/**
 * Redirect URL templates: parsing (what placeholders a URL has and where they sit) and
 * rendering (each value percent-encoded for its position). A value can never add a query
 * parameter, change the scheme, host or port, or add/remove a path segment: placeholders are
 * refused before the path starts, and every value byte outside RFC 3986's unreserved set
 * (A-Z a-z 0-9 - . _ ~) is percent-encoded, so '/', '?', '&', '=', '#' and '%' stay data.
 */

/** Placeholder names (inside `{…}`) that take no argument. */
export const SIMPLE_PLACEHOLDERS = [
  'username', 'respondentId', 'userId', 'identifier', 'survey', 'outcome', 'status', 'reward', 'rewardId',
  'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10',
] as const;
/** Intake24's bracket forms, kept verbatim so v3 URLs work unchanged. */
const BRACKET_PLACEHOLDERS: Record<string, string> = {
  '[intake24_username_value]': 'username',
  '[ID_RESPONDENT]': 'respondentId',
};
const SIMPLE = new Set<string>(SIMPLE_PLACEHOLDERS);
/** `{custom:NAME}` and `{entry:PARAM}` argument names. */
export const ARG_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export type Position = 'path' | 'query';
type Section = 'scheme' | 'authority' | 'path' | 'query' | 'fragment';
export type Token = { kind: 'literal'; text: string; section: Section } | { kind: 'placeholder'; raw: string; key: string; position: Position };

export interface ParsedTemplate {
  tokens: Token[];
  /** Every problem found, each naming what is wrong (empty when the template is usable). */
  errors: string[];
  /** Distinct `{entry:PARAM}` names used. */
  entryParams: string[];
  /** Names of the template's own query parameters (placeholders in a name count as unknown). */
  queryNames: string[];
}

/**
 * Canonical placeholder key: `username`, `respondentId` (also for `{userId}` and
 * `[ID_RESPONDENT]`), `custom:NAME`, `entry:PARAM`, … or null when unknown.
 */
export function placeholderKey(raw: string): string | null {
  if (BRACKET_PLACEHOLDERS[raw]) return BRACKET_PLACEHOLDERS[raw];
  const inner = raw.slice(1, -1);
  if (SIMPLE.has(inner)) return inner === 'userId' ? 'respondentId' : inner;
  const m = /^(custom|entry):(.*)$/.exec(inner);
  if (m && ARG_NAME.test(m[2])) return `${m[1]}:${m[2]}`;
  return null;
}

const BRACKET_RE = /\[intake24_username_value\]|\[ID_RESPONDENT\]/y;

/** Splits a template into literals and placeholders, and places each placeholder. */
export function parseTemplate(template: string): ParsedTemplate {
  const tokens: Token[] = [];
  const errors: string[] = [];
  const entryParams = new Set<string>();
  // Where we are in the URL, decided from literal characters only (placeholder names hold no '/', '?', '#').
  let section = 'scheme' as Section; // 'as': advance() changes it behind the compiler's narrowing
  let literal = '';
  let literalSection: Section = 'scheme';
  let schemeText = '';

  const flush = () => {
    if (literal) tokens.push({ kind: 'literal', text: literal, section: literalSection });
    literal = '';
  };
  const advance = (c: string) => {
    if (section === 'scheme') {
      schemeText += c;
      if (schemeText.endsWith('://')) section = 'authority';
      else if (c === '?' || c === '#') section = 'authority'; // malformed; the scheme check reports it
    } else if (section === 'authority') {
      if (c === '/') section = 'path';
      else if (c === '?') section = 'query';
      else if (c === '#') section = 'fragment';
    } else if (section === 'path') {
      if (c === '?') section = 'query';
      else if (c === '#') section = 'fragment';
    } else if (section === 'query' && c === '#') section = 'fragment';
  };

  let i = 0;
  while (i < template.length) {
    const c = template[i];
    let raw: string | null = null;
    if (c === '{') {
      const close = template.indexOf('}', i);
      const nextOpen = template.indexOf('{', i + 1);
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
        errors.push(`unknown placeholder "${template.slice(i, close < 0 ? i + 40 : nextOpen)}" (no closing brace)`);
        i += 1;
        continue;
      }
      raw = template.slice(i, close + 1);
    } else if (c === '[') {
      BRACKET_RE.lastIndex = i;
      const m = BRACKET_RE.exec(template);
      if (m) raw = m[0];
    } else if (c === '}') {
      errors.push('unknown placeholder: a "}" without its "{"');
    }
    if (raw === null) {
      advance(c);
      // Each literal token lies in one section, so rendering knows which characters form the path.
      if (section !== literalSection) {
        flush();
        literalSection = section;
      }
      literal += c;
      i += 1;
      continue;
    }
    i += raw.length;
    const key = placeholderKey(raw);
    if (key === null) {
      errors.push(`unknown placeholder ${raw}`);
      continue;
    }
    if (section === 'path' || section === 'query') {
      flush();
      tokens.push({ kind: 'placeholder', raw, key, position: section });
      if (key.startsWith('entry:')) entryParams.add(key.slice(6));
    } else if (section === 'fragment') {
      errors.push(`placeholder ${raw} is in the fragment (after "#"), which the third party's server never receives`);
    } else {
      errors.push(`placeholder ${raw} is in the scheme, host or port; only the path and query may hold placeholders`);
    }
  }
  flush();

  if (!/^https?:\/\//i.test(template)) errors.push('must be an http:// or https:// URL');
  else if (section === 'fragment') errors.push('must not have a fragment ("#…"): it cannot be signed or read by the third party\'s server');
  else {
    try {
      const probe = new URL(renderTokens(tokens, () => 'x'));
      if (probe.protocol !== 'http:' && probe.protocol !== 'https:') errors.push('must be an http:// or https:// URL');
      if (probe.username || probe.password) errors.push('must not carry a user name or password');
    } catch {
      errors.push('is not a valid URL');
    }
  }
  return { tokens, errors, entryParams: [...entryParams], queryNames: queryNamesOf(tokens) };
}

function queryNamesOf(tokens: Token[]): string[] {
  const q = renderTokens(tokens, () => '');
  const at = q.indexOf('?');
  if (at < 0) return [];
  return [...new URLSearchParams(q.slice(at + 1)).keys()];
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Percent-encodes every UTF-8 byte outside RFC 3986's unreserved set (lone surrogates become U+FFFD). */
export function strictEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Renders tokens with `valueOf(key)` (missing → empty). Path segments are rendered one by one:
 * a segment holding a placeholder that comes out as "." or ".." (which URL parsers collapse,
 * changing the path) renders empty instead.
 */
export function renderTokens(tokens: Token[], valueOf: (key: string) => string | null | undefined): string {
  let out = '';
  let segment = '';
  let segmentHasPlaceholder = false;
  const endSegment = () => {
    out += segmentHasPlaceholder && DOT_SEGMENT.test(segment) ? '' : segment;
    segment = '';
    segmentHasPlaceholder = false;
  };
  for (const t of tokens) {
    if (t.kind === 'placeholder') {
      const encoded = strictEncode(valueOf(t.key) ?? '');
      if (t.position === 'path') {
        segment += encoded;
        segmentHasPlaceholder = true;
      } else {
        endSegment();
        out += encoded;
      }
    } else if (t.section === 'path') {
      for (const c of t.text) {
        if (c === '/') {
          endSegment();
          out += '/';
        } else segment += c;
      }
    } else {
      endSegment();
      out += t.text;
    }
  }
  endSegment();
  return out;
}
