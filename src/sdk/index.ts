/**
 * Surveybridge integrator SDK (`surveybridge/sdk`): what a third-party system needs to send
 * respondents in and to trust what comes back. No server code, no dependencies beyond
 * node:crypto.
 *
 *   createUserToken / createUserUrl / createUserApiUrl — on-the-fly respondents (signed JWT)
 *   signLink / verifyLink                              — the `hash` of signed links and redirects
 *   verifyNotification                                 — checks a webhook delivery (JWT or Standard Webhooks)
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SurveybridgeEvent } from './events.ts';

export type * from './events.ts';

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

// ---- create-user tokens ----------------------------------------------------------------

export interface CreateUserTokenOptions {
  /** The survey's JWT secret (set in Surveybridge as the survey's `jwtSecret`). */
  secret: string;
  /** Your identifier for the respondent (becomes their `username`). */
  user: string;
  /** Where to send this respondent when they complete (respondent-specific redirect). */
  redirect?: string;
  name?: string;
  customFields?: Record<string, string>;
  /** Labels l1…l10. */
  labels?: Partial<Record<`l${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10}`, string>>;
  /** Seconds until the token expires (default 3600). */
  expiresIn?: number;
  alg?: 'HS256' | 'HS512';
  /** Make the token single-use (a random `jti`). */
  singleUse?: boolean;
}

/** A create-user JWT with the seed's claim names `user` and `redirect` (Intake24 v3). */
export function createUserToken(opts: CreateUserTokenOptions): string {
  const alg = opts.alg ?? 'HS256';
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { user: opts.user, iat: now, exp: now + (opts.expiresIn ?? 3600) };
  if (opts.redirect !== undefined) payload.redirect = opts.redirect;
  if (opts.name !== undefined) payload.name = opts.name;
  if (opts.customFields !== undefined) payload.customFields = opts.customFields;
  if (opts.labels) Object.assign(payload, opts.labels);
  if (opts.singleUse) payload.jti = randomUUID();
  const signingInput = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const signature = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', opts.secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

export interface CreateUserUrlOptions extends CreateUserTokenOptions {
  /** Surveybridge's PUBLIC_URL, e.g. https://surveys.example.org */
  publicUrl: string;
  /** The survey's slug. */
  survey: string;
}

/** The browser link: signs the respondent in and lands them on the survey. */
export function createUserUrl(opts: CreateUserUrlOptions): string {
  return `${opts.publicUrl.replace(/\/+$/, '')}/surveys/${encodeURIComponent(opts.survey)}?createUser=${createUserToken(opts)}`;
}

/** The API call (GET or POST) that answers {userId, username, authToken, authUrl, redirect}. */
export function createUserApiUrl(opts: CreateUserUrlOptions): string {
  return `${opts.publicUrl.replace(/\/+$/, '')}/api/surveys/${encodeURIComponent(opts.survey)}/create-user?params=${createUserToken(opts)}`;
}

// ---- signed links ------------------------------------------------------------------------

/** Appends `hash` = base64url(HMAC-SHA256(secret, url)) without padding, as the last parameter. */
export function signLink(url: string, secret: string): string {
  // A trailing "?" or "&" is dropped, so the signed string is exactly what precedes the hash.
  const base = url.replace(/[?&]+$/, '');
  const hash = createHmac('sha256', secret).update(base).digest('base64url');
  return `${base}${base.includes('?') ? '&' : '?'}hash=${hash}`;
}

/** True when the URL ends with a `hash` parameter that signs everything before it. */
export function verifyLink(url: string, secret: string): boolean {
  const m = /[?&]hash=([^&#]*)$/.exec(url);
  if (!m || m[1] === '') return false;
  const base = url.slice(0, m.index);
  // "&hash=" after a query, "?hash=" without one: exactly as signLink writes it.
  if (url[m.index] !== (base.includes('?') ? '&' : '?')) return false;
  const expected = createHmac('sha256', secret).update(base).digest('base64url');
  return safeEqual(m[1], expected);
}

// ---- notifications ---------------------------------------------------------------------------

export type NotificationErrorCode =
  | 'MISSING_SIGNATURE'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'WRONG_AUDIENCE'
  | 'BODY_MISMATCH'
  | 'TIMESTAMP_OUT_OF_TOLERANCE'
  | 'MALFORMED';

export class NotificationError extends Error {
  constructor(public readonly code: NotificationErrorCode, message: string) {
    super(message);
    this.name = 'NotificationError';
  }
}

export interface VerifyNotificationOptions {
  headers: Record<string, string | string[] | undefined>;
  /** The raw body exactly as received (string or bytes). */
  body: string | Buffer;
  /** The survey's jwtSecret (jwt endpoints) or the endpoint's whsec_… secret (hmac endpoints). */
  secret: string;
  /** Your endpoint URL as configured in Surveybridge: checked against the JWT's `aud`. */
  url?: string;
  /** Seconds of clock skew tolerated (default 300, Standard Webhooks' tolerance). */
  toleranceSeconds?: number;
  now?: Date;
}

function header(headers: VerifyNotificationOptions['headers'], name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

function parseEvent(body: string): SurveybridgeEvent {
  try {
    return JSON.parse(body) as SurveybridgeEvent;
  } catch {
    throw new NotificationError('MALFORMED', 'the body is not JSON');
  }
}

/**
 * Checks a delivery whatever its auth mode and returns the parsed event:
 * `Authorization: Bearer <JWT>` (HS256/HS512 with `aud`, `exp` and `body_sha256`), or the
 * Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
 * Throws NotificationError otherwise.
 */
export function verifyNotification(opts: VerifyNotificationOptions): SurveybridgeEvent {
  const body = Buffer.isBuffer(opts.body) ? opts.body.toString('utf8') : opts.body;
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  const auth = header(opts.headers, 'authorization');
  const signature = header(opts.headers, 'webhook-signature');

  if (auth && /^Bearer\s+/i.test(auth)) {
    const token = auth.replace(/^Bearer\s+/i, '');
    const parts = token.split('.');
    if (parts.length !== 3) throw new NotificationError('MALFORMED', 'the bearer token is not a JWT');
    let head: { alg?: string };
    let claims: { aud?: string | string[]; exp?: number; body_sha256?: string };
    try {
      head = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw new NotificationError('MALFORMED', 'the bearer token is not a JWT');
    }
    const hash = head.alg === 'HS256' ? 'sha256' : head.alg === 'HS512' ? 'sha512' : null;
    if (!hash) throw new NotificationError('BAD_SIGNATURE', `algorithm ${String(head.alg)} is not accepted`);
    const expected = createHmac(hash, opts.secret).update(`${parts[0]}.${parts[1]}`).digest('base64url');
    if (!safeEqual(parts[2], expected)) throw new NotificationError('BAD_SIGNATURE', 'the JWT signature does not verify');
    if (typeof claims.exp !== 'number' || claims.exp + tolerance < now) throw new NotificationError('EXPIRED', 'the JWT has expired');
    if (opts.url !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(opts.url)) throw new NotificationError('WRONG_AUDIENCE', 'the JWT was issued for another URL');
    }
    const digest = createHash('sha256').update(body).digest('hex');
    if (claims.body_sha256 !== digest) throw new NotificationError('BODY_MISMATCH', 'the body is not the one the JWT signs');
    return parseEvent(body);
  }

  if (signature) {
    const id = header(opts.headers, 'webhook-id');
    const timestamp = Number(header(opts.headers, 'webhook-timestamp'));
    if (!id || !Number.isFinite(timestamp)) throw new NotificationError('MALFORMED', 'webhook-id or webhook-timestamp is missing');
    if (Math.abs(now - timestamp) > tolerance) throw new NotificationError('TIMESTAMP_OUT_OF_TOLERANCE', 'the timestamp is too far from now');
    const key = Buffer.from(opts.secret.startsWith('whsec_') ? opts.secret.slice(6) : opts.secret, 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    // Several space-separated signatures may be present (during a secret rotation).
    const ok = signature.split(' ').some((s) => {
      const [version, sig] = s.split(',');
      return version === 'v1' && sig !== undefined && safeEqual(sig, expected);
    });
    if (!ok) throw new NotificationError('BAD_SIGNATURE', 'no signature verifies');
    return parseEvent(body);
  }

  throw new NotificationError('MISSING_SIGNATURE', 'neither a bearer JWT nor a webhook-signature header');
}
