/**
 * Webhook endpoints of a survey: validation, sealed credentials, the view admins see, hmac
 * secret rotation, and the endpoint the `submissionNotificationUrl` setting manages.
 */
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { webhookEndpoints, type WebhookAuthType } from '../db/schema/index.ts';
import { AppError, type FieldError } from '../errors.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { decodeCursor, page } from '../lib/pagination.ts';
import type { SurveyRow, SurveysService } from '../surveys/service.ts';
import { TRIALKIT_EVENT_TYPES } from './formats.ts';
import { newHmacSecret, type AuthConfig } from './signing.ts';
import type { AuthInput, EndpointCreate, EndpointPatch, EndpointView, EndpointWithSecret } from './schemas.ts';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export const MANAGED_BY_NOTIFICATION = 'submissionNotificationUrl';
/** How long the previous hmac secret keeps signing after a rotation. */
const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
/** Headers the platform sets itself; a static header may not override them. */
const RESERVED_HEADERS = /^(authorization|content-type|content-length|host|user-agent|connection|transfer-encoding|webhook-.*)$/i;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

function invalid(fields: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
}

export class EndpointsService {
  constructor(private readonly db: Db, private readonly box: SecretBox, private readonly surveys: SurveysService) {}

  auth(row: EndpointRow): AuthConfig {
    if (row.authType === 'none' || !row.authSealed) return { type: 'none' };
    return { type: row.authType, ...JSON.parse(this.box.open(row.authSealed)) } as AuthConfig;
  }

  staticHeaders(row: EndpointRow): Record<string, string> {
    return row.headersSealed ? (JSON.parse(this.box.open(row.headersSealed)) as Record<string, string>) : {};
  }

  /** The previous hmac secret while it still signs. */
  previousSecret(row: EndpointRow, now = new Date()): string | null {
    if (!row.previousSecretSealed || !row.previousSecretExpiresAt || row.previousSecretExpiresAt <= now) return null;
    return this.box.open(row.previousSecretSealed);
  }

  view(row: EndpointRow): EndpointView {
    const auth = this.auth(row);
    const authView: EndpointView['auth'] = { type: auth.type };
    if (auth.type === 'basic') authView.username = auth.username;
    if (auth.type === 'jwt') {
      authView.ownSecret = auth.secret !== undefined;
      if (auth.issuer) authView.issuer = auth.issuer;
    }
    if (auth.type === 'hmac') authView.previousSecretExpiresAt = this.previousSecret(row) ? row.previousSecretExpiresAt!.toISOString() : null;
    return {
      id: row.id,
      url: row.url,
      events: row.events,
      format: row.format,
      mode: row.mode,
      timeoutMs: row.timeoutMs,
      enabled: row.enabled,
      disabledReason: row.disabledReason,
      headerNames: Object.keys(this.staticHeaders(row)),
      auth: authView,
      managedBy: row.managedBy,
      failingSince: row.failingSince?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  private check(merged: { url: string; events: string[]; format: string; headers: Record<string, string>; auth: AuthConfig }, survey: SurveyRow) {
    const fields: FieldError[] = [];
    let url: URL | null = null;
    try {
      url = new URL(merged.url);
    } catch {
      /* reported below */
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname) fields.push({ path: '/body/url', message: 'must be an http(s) URL' });
    else if (url.username || url.password) fields.push({ path: '/body/url', message: 'must not carry credentials; use auth' });
    if (merged.format === 'trialkit' && merged.events.some((e) => !(TRIALKIT_EVENT_TYPES as readonly string[]).includes(e))) {
      fields.push({ path: '/body/events', message: `the trialkit format carries record events only (${TRIALKIT_EVENT_TYPES.join(', ')})` });
    }
    for (const name of Object.keys(merged.headers)) {
      if (!HEADER_NAME.test(name)) fields.push({ path: `/body/headers/${name}`, message: 'is not a valid header name' });
      else if (RESERVED_HEADERS.test(name)) fields.push({ path: `/body/headers/${name}`, message: 'is set by the platform' });
    }
    if (fields.length > 0) throw invalid(fields);
    if (merged.auth.type === 'jwt' && !merged.auth.secret && !survey.jwtSecretSealed) {
      throw new AppError('JWT_SECRET_REQUIRED', 'jwt auth needs a secret: set the survey\'s jwtSecret or give auth.secret');
    }
  }

  /** Turns API auth input into the stored config; keeps an existing hmac secret if the type stays hmac. */
  private resolveAuth(input: AuthInput, current: AuthConfig | null): { auth: AuthConfig; newSecret: string | null } {
    if (input.type === 'hmac') {
      if (current?.type === 'hmac') return { auth: current, newSecret: null };
      const secret = newHmacSecret();
      return { auth: { type: 'hmac', secret }, newSecret: secret };
    }
    return { auth: input as AuthConfig, newSecret: null };
  }

  private sealAuth(auth: AuthConfig): { authType: WebhookAuthType; authSealed: string | null } {
    const { type, ...rest } = auth;
    return { authType: type, authSealed: type === 'none' ? null : this.box.seal(JSON.stringify(rest)) };
  }

  async create(accountId: number, slug: string, input: EndpointCreate): Promise<EndpointWithSecret> {
    const survey = await this.surveys.get(accountId, slug);
    // Signed by default: an endpoint nobody configured auth for still gets verifiable requests.
    const { auth, newSecret } = this.resolveAuth(input.auth ?? { type: 'hmac' }, null);
    const headers = input.headers ?? {};
    const format = input.format ?? 'standard';
    this.check({ url: input.url, events: input.events, format, headers, auth }, survey);
    const [row] = await this.db
      .insert(webhookEndpoints)
      .values({
        accountId,
        surveyId: survey.id,
        url: input.url,
        events: input.events,
        format,
        mode: input.mode ?? 'async',
        timeoutMs: input.timeoutMs ?? 10_000,
        enabled: input.enabled ?? true,
        headersSealed: Object.keys(headers).length > 0 ? this.box.seal(JSON.stringify(headers)) : null,
        ...this.sealAuth(auth),
      })
      .returning();
    return { ...this.view(row), ...(newSecret ? { secret: newSecret } : {}) };
  }

  async list(accountId: number, slug: string, limit: number, cursor?: string) {
    const survey = await this.surveys.get(accountId, slug);
    const after = decodeCursor<string>(cursor, 'string');
    const rows = await this.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.surveyId, survey.id), after === null ? undefined : gt(webhookEndpoints.id, after)))
      .orderBy(asc(webhookEndpoints.id))
      .limit(limit + 1);
    const p = page(rows, limit, (r) => r.id);
    return { items: p.items.map((r) => this.view(r)), nextCursor: p.nextCursor };
  }

  /** The endpoint row of a survey of the account (404 WEBHOOK_NOT_FOUND otherwise). */
  async row(accountId: number, slug: string, id: string): Promise<{ survey: SurveyRow; row: EndpointRow }> {
    const survey = await this.surveys.get(accountId, slug);
    const [row] = await this.db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.surveyId, survey.id), eq(webhookEndpoints.id, id)));
    if (!row) throw new AppError('WEBHOOK_NOT_FOUND', 'webhook endpoint not found');
    return { survey, row };
  }

  private refuseManaged(row: EndpointRow) {
    if (row.managedBy) {
      throw new AppError('CONFLICT', `this endpoint is managed by the survey setting ${row.managedBy}; change that setting instead`);
    }
  }

  async update(accountId: number, slug: string, id: string, input: EndpointPatch): Promise<EndpointWithSecret> {
    const { survey, row } = await this.row(accountId, slug, id);
    this.refuseManaged(row);
    const current = this.auth(row);
    const { auth, newSecret } = input.auth ? this.resolveAuth(input.auth, current) : { auth: current, newSecret: null };
    const headers = input.headers ?? this.staticHeaders(row);
    const merged = { url: input.url ?? row.url, events: input.events ?? row.events, format: input.format ?? row.format, headers, auth };
    this.check(merged, survey);
    const changes: Partial<typeof webhookEndpoints.$inferInsert> = {
      url: merged.url,
      events: merged.events,
      format: merged.format,
      updatedAt: new Date(),
    };
    if (input.mode !== undefined) changes.mode = input.mode;
    if (input.timeoutMs !== undefined) changes.timeoutMs = input.timeoutMs;
    if (input.enabled !== undefined) {
      changes.enabled = input.enabled;
      // Re-enabling starts a fresh failure window (else the next failure disables it again).
      if (input.enabled) Object.assign(changes, { disabledReason: null, failingSince: null });
    }
    if (input.headers !== undefined) changes.headersSealed = Object.keys(headers).length > 0 ? this.box.seal(JSON.stringify(headers)) : null;
    if (input.auth) {
      Object.assign(changes, this.sealAuth(auth));
      if (auth.type !== 'hmac') Object.assign(changes, { previousSecretSealed: null, previousSecretExpiresAt: null });
    }
    const [updated] = await this.db.update(webhookEndpoints).set(changes).where(eq(webhookEndpoints.id, row.id)).returning();
    return { ...this.view(updated), ...(newSecret ? { secret: newSecret } : {}) };
  }

  async remove(accountId: number, slug: string, id: string): Promise<void> {
    const { row } = await this.row(accountId, slug, id);
    this.refuseManaged(row);
    await this.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, row.id));
  }

  /** A new hmac secret; the old one keeps signing (as a second signature) for 24 h. */
  async rotateSecret(accountId: number, slug: string, id: string): Promise<EndpointWithSecret> {
    const { row } = await this.row(accountId, slug, id);
    const auth = this.auth(row);
    if (auth.type !== 'hmac') throw new AppError('BAD_REQUEST', 'only hmac endpoints have a secret to rotate');
    const secret = newHmacSecret();
    const [updated] = await this.db
      .update(webhookEndpoints)
      .set({
        ...this.sealAuth({ type: 'hmac', secret }),
        previousSecretSealed: this.box.seal(auth.secret),
        previousSecretExpiresAt: new Date(Date.now() + ROTATION_OVERLAP_MS),
        updatedAt: new Date(),
      })
      .where(eq(webhookEndpoints.id, row.id))
      .returning();
    return { ...this.view(updated), secret };
  }

  /**
   * Keeps the endpoint of `submissionNotificationUrl` in step with the setting, inside the
   * survey's save transaction. Clearing the setting disables the endpoint rather than
   * deleting it, so its delivery log stays readable.
   */
  async syncManaged(tx: Db, survey: SurveyRow): Promise<void> {
    const url = survey.settings.submissionNotificationUrl as string | null | undefined;
    const [existing] = await tx
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.surveyId, survey.id), eq(webhookEndpoints.managedBy, MANAGED_BY_NOTIFICATION)));
    if (!url) {
      if (existing?.enabled) {
        await tx.update(webhookEndpoints).set({ enabled: false, disabledReason: 'submissionNotificationUrl was cleared', updatedAt: new Date() }).where(eq(webhookEndpoints.id, existing.id));
      }
      return;
    }
    if (!survey.jwtSecretSealed) {
      throw new AppError('JWT_SECRET_REQUIRED', 'submissionNotificationUrl sends a JWT signed with the survey\'s jwtSecret: set jwtSecret too');
    }
    // The issuer is read from the survey at send time, so it follows notificationIssuer.
    const values = { url, events: ['submission.completed'], format: 'standard' as const, mode: 'async' as const, ...this.sealAuth({ type: 'jwt' }), updatedAt: new Date() };
    if (existing) {
      const reEnable = !existing.enabled || existing.url !== url;
      await tx
        .update(webhookEndpoints)
        .set({ ...values, ...(reEnable ? { enabled: true, disabledReason: null, failingSince: null } : {}) })
        .where(eq(webhookEndpoints.id, existing.id));
    } else {
      await tx.insert(webhookEndpoints).values({ ...values, accountId: survey.accountId, surveyId: survey.id, managedBy: MANAGED_BY_NOTIFICATION });
    }
  }
}
