/**
 * The fields of a respondent and their rules, in one place: the admin API, the CSV import,
 * the create-user JWT and the inbound webhooks all check values with these functions, so a
 * value accepted by one door is accepted by every other.
 */
export const LABELS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10'] as const;
export type Label = (typeof LABELS)[number];

export const LIMITS = {
  username: 256,
  name: 1000,
  email: 320,
  phone: 64,
  url: 2048,
  label: 1000,
  customFieldName: 100,
  customFieldValue: 1000,
  customFieldCount: 100,
  passwordMin: 8,
  passwordMax: 1024,
} as const;

/** Characters, not UTF-16 units: a 256-character username of emoji is 256 characters. */
export const charLength = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const EMAIL = /^[^@\s"<>(),;:\\[\]]+@[^@\s"<>(),;:\\[\]]+\.[^@\s"<>(),;:\\[\]]+$/;
const PHONE = /^[0-9+()./\- x#*]+$/i;

/** Each check returns null when the value is fine, else a short reason (the caller names the field). */
export function checkUsername(v: unknown): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length === 0) return 'must not be empty';
  if (charLength(v) > LIMITS.username) return `must be at most ${LIMITS.username} characters`;
  if (CONTROL.test(v) || /[\r\n]/.test(v)) return 'must not contain control characters';
  return null;
}

export function checkText(v: unknown, max: number): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (charLength(v) > max) return `must be at most ${max} characters`;
  return null;
}

export function checkEmail(v: unknown): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length > LIMITS.email) return `must be at most ${LIMITS.email} characters`;
  if (!EMAIL.test(v)) return 'is not an email address';
  return null;
}

export function checkPhone(v: unknown): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length > LIMITS.phone) return `must be at most ${LIMITS.phone} characters`;
  if (!PHONE.test(v) || !/[0-9]/.test(v)) return 'is not a phone number (digits, spaces and + ( ) - . / x # *)';
  return null;
}

/**
 * An http(s) URL that a respondent may be sent to. With `allowedOrigins` non-empty, its
 * origin must be one of them.
 */
export function checkRedirectUrl(v: unknown, allowedOrigins: readonly string[] = []): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length > LIMITS.url) return `must be at most ${LIMITS.url} characters`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http: or https: URL';
  if (!u.hostname) return 'must name a host';
  if (u.username || u.password) return 'must not carry credentials';
  if (allowedOrigins.length > 0 && !allowedOrigins.includes(u.origin)) {
    return `origin ${u.origin} is not in the survey's allowedRedirectOrigins`;
  }
  return null;
}

export function checkPassword(v: unknown): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length < LIMITS.passwordMin) return `must be at least ${LIMITS.passwordMin} characters`;
  if (v.length > LIMITS.passwordMax) return `must be at most ${LIMITS.passwordMax} characters`;
  return null;
}

export function checkCustomFieldName(name: string): string | null {
  if (name.length === 0) return 'a custom field name must not be empty';
  if (charLength(name) > LIMITS.customFieldName) return `a custom field name must be at most ${LIMITS.customFieldName} characters`;
  if (CONTROL.test(name)) return 'a custom field name must not contain control characters';
  return null;
}

/**
 * Custom fields as an object of strings (or v4's `[{name, value}]`). Returns the normalised
 * object or the path and reason of the first bad entry. `null` values are kept: they clear
 * the field on update.
 */
export function normaliseCustomFields(v: unknown): { ok: Record<string, string | null> } | { path: string; reason: string } {
  let entries: [string, unknown][];
  if (Array.isArray(v)) {
    entries = [];
    for (let i = 0; i < v.length; i++) {
      const item = v[i] as { name?: unknown; value?: unknown } | null;
      if (!item || typeof item !== 'object' || typeof item.name !== 'string') return { path: `[${i}].name`, reason: 'must be a string' };
      entries.push([item.name, item.value]);
    }
  } else if (v !== null && typeof v === 'object') {
    entries = Object.entries(v as Record<string, unknown>);
  } else {
    return { path: '', reason: 'must be an object of strings (or a list of {name, value})' };
  }
  if (entries.length > LIMITS.customFieldCount) return { path: '', reason: `must have at most ${LIMITS.customFieldCount} fields` };
  const out: Record<string, string | null> = Object.create(null);
  for (const [name, value] of entries) {
    const bad = checkCustomFieldName(name);
    if (bad) return { path: `.${name}`, reason: bad };
    if (value === null) {
      out[name] = null;
      continue;
    }
    const r = checkText(value, LIMITS.customFieldValue);
    if (r) return { path: `.${name}`, reason: r };
    out[name] = value as string;
  }
  return { ok: { ...out } };
}

/** Merges custom-field changes into the stored ones: a null removes the field. */
export function mergeCustomFields(stored: Record<string, string>, changes: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = { ...stored };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
