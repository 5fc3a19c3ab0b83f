/**
 * Request authentication of outbound webhooks, one function per auth mode. Every delivery
 * also carries `webhook-id` (the event id: receivers de-duplicate on it), `webhook-timestamp`
 * and `user-agent`.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
export const USER_AGENT = `surveybridge/${VERSION}`;

export type AuthConfig =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'hmac'; secret: string }
  /** `secret` absent: the survey's jwtSecret at send time. */
  | { type: 'jwt'; secret?: string; issuer?: string };

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newHmacSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function hmacKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` per Standard Webhooks. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', hmacKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface SignInput {
  auth: AuthConfig;
  /** Previous hmac secret still within its 24 h overlap. */
  previousSecret: string | null;
  eventId: string;
  url: string;
  body: string;
  /** `sub` of the JWT: the respondent's username, or the survey slug for events without one. */
  subject: string;
  /** Secret and issuer that jwt endpoints without their own use. */
  surveyJwtSecret: string | null;
  issuer: string;
  now: Date;
}

export class MissingSecretError extends Error {}

/** Headers that authenticate the request. */
export async function authHeaders(input: SignInput): Promise<Record<string, string>> {
  const timestamp = Math.floor(input.now.getTime() / 1000);
  const headers: Record<string, string> = { 'webhook-id': input.eventId, 'webhook-timestamp': String(timestamp) };
  const { auth } = input;
  if (auth.type === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  } else if (auth.type === 'hmac') {
    const sigs = [standardSignature(auth.secret, input.eventId, timestamp, input.body)];
    if (input.previousSecret) sigs.push(standardSignature(input.previousSecret, input.eventId, timestamp, input.body));
    headers['webhook-signature'] = sigs.join(' ');
  } else if (auth.type === 'jwt') {
    const secret = auth.secret ?? input.surveyJwtSecret;
    if (!secret) throw new MissingSecretError("the endpoint uses jwt auth but neither it nor the survey has a JWT secret");
    const jwt = await new SignJWT({ body_sha256: createHash('sha256').update(input.body).digest('hex') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(auth.issuer ?? input.issuer)
      .setSubject(input.subject)
      .setAudience(input.url)
      .setIssuedAt(timestamp)
      .setExpirationTime(timestamp + 300)
      .setJti(input.eventId)
      .sign(new TextEncoder().encode(secret));
    headers.authorization = `Bearer ${jwt}`;
  }
  return headers;
}

/** Request headers as the attempt log shows them: credentials blanked, static header values hidden. */
export function loggableHeaders(all: Record<string, string>, staticHeaderNames: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const hidden = new Set(staticHeaderNames.map((h) => h.toLowerCase()));
  for (const [k, v] of Object.entries(all)) {
    if (k === 'authorization') out[k] = `${v.split(' ')[0]} [redacted]`;
    else if (hidden.has(k)) out[k] = '[redacted]';
    else out[k] = v;
  }
  return out;
}
