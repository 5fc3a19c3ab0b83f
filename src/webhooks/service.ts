/**
 * The webhooks domain as the rest of the platform sees it: endpoints, inline (sync) hooks,
 * the test button, the delivery log, retry and replay. The worker (src/worker) drives the
 * same Dispatcher for everything else.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { rowsOf, type Db } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { deliveriesChannel, emitEvent } from '../events/outbox.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Metrics } from '../lib/metrics.ts';
import { decodeCursor, encodeCursor } from '../lib/pagination.ts';
import { surveyRef, type SurveysService } from '../surveys/service.ts';
import { Dispatcher, type DispatchResult } from './dispatch.ts';
import { EndpointsService } from './endpoints.ts';
import type { AttemptView, DeliveryDetail, DeliveryListQuery, DeliverySummary, HookResult, ReplayBody } from './schemas.ts';
import { WebhookSender } from './sender.ts';
import { DeliveryStore } from './store.ts';

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  event_seq: string | number;
  state: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | Date;
  created_at: string | Date;
  completed_at: string | Date | null;
}

const iso = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());

/** A query/body time as ISO, or a 400 (JSON Schema's date-time allows years PostgreSQL refuses). */
function timeParam(value: string | undefined, path: string): string | null {
  if (value === undefined) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1900 || d.getUTCFullYear() > 9999) {
    throw new AppError('VALIDATION_FAILED', `${path} is not a usable time`, { fields: [{ path, message: 'must be an ISO 8601 time between 1900 and 9999' }] });
  }
  return d.toISOString();
}

export class WebhooksService {
  readonly endpoints: EndpointsService;
  readonly store: DeliveryStore;
  readonly dispatcher: Dispatcher;
  private readonly sender: WebhookSender;

  constructor(
    private readonly db: Db,
    private readonly schemaName: string,
    box: SecretBox,
    config: Config,
    surveys: SurveysService,
    metrics: Metrics,
    log: Logger,
  ) {
    this.endpoints = new EndpointsService(db, box, surveys);
    this.store = new DeliveryStore(db, config.webhookRetryScheduleSeconds);
    this.sender = new WebhookSender({ allowPrivate: config.webhookAllowPrivate, allowedSubnets: config.webhookAllowedSubnets });
    this.dispatcher = new Dispatcher(db, box, this.endpoints, this.store, this.sender, metrics, log);
    surveys.onSave((tx, row) => this.endpoints.syncManaged(tx, row));
  }

  private toHook(r: DispatchResult): HookResult {
    const ok = r.attempt.statusCode !== null && r.attempt.statusCode >= 200 && r.attempt.statusCode < 300;
    return { endpointId: r.endpointId, deliveryId: r.deliveryId, ok, statusCode: r.attempt.statusCode, error: ok ? null : r.attempt.error ?? `the receiver answered ${r.attempt.statusCode}` };
  }

  /**
   * Attempts sync deliveries inline, after the caller's transaction committed (their ids come
   * from emitEvent's `syncDeliveryIds`). Each is bounded by its endpoint's timeoutMs and
   * recorded like a worker attempt; a failed one stays in the log and follows the retry rules.
   */
  async runSyncDeliveries(deliveryIds: string[]): Promise<HookResult[]> {
    return Promise.all(
      deliveryIds.map(async (id) => {
        const token = `sync:${randomUUID()}`;
        if (!(await this.store.takeReservation(id, token))) {
          const [row] = rowsOf<{ endpoint_id: string }>(await this.db.execute(sql`SELECT endpoint_id FROM deliveries WHERE id = ${id}`));
          return { endpointId: row?.endpoint_id ?? '', deliveryId: id, ok: false, statusCode: null, error: 'the delivery is no longer waiting for an inline attempt (the worker has it)' };
        }
        const [result] = await this.dispatcher.dispatchLeased([id], token);
        return this.toHook(result);
      }),
    );
  }

  /** Re-sends one delivery of a survey inline (the "Protocol error" retry button). */
  async resendInline(surveyId: number, deliveryId: string): Promise<HookResult> {
    await this.deliveryRow(surveyId, deliveryId);
    const token = `sync:${randomUUID()}`;
    if (!(await this.store.leaseForResend(deliveryId, token))) throw new AppError('CONFLICT', 'an attempt of this delivery is in progress');
    const [result] = await this.dispatcher.dispatchLeased([deliveryId], token);
    return this.toHook(result);
  }

  /** Sends a `ping` event to one endpoint now and reports the attempt. */
  async sendTest(accountId: number, slug: string, endpointId: string): Promise<{ ok: boolean; delivery: DeliveryDetail; attempt: AttemptView }> {
    const { survey, row } = await this.endpoints.row(accountId, slug, endpointId);
    const emitted = await this.db.transaction((tx) =>
      emitEvent(tx, this.schemaName, {
        type: 'ping',
        survey: surveyRef(survey),
        respondent: null,
        data: { message: 'A test event sent from Surveybridge.' },
        onlyEndpointId: row.id,
        reserveAll: true,
      }),
    );
    const deliveryId = emitted.syncDeliveryIds[0];
    const token = `sync:${randomUUID()}`;
    if (!(await this.store.takeReservation(deliveryId, token))) throw new AppError('CONFLICT', 'the test delivery was taken by the worker');
    const [result] = await this.dispatcher.dispatchLeased([deliveryId], token);
    const delivery = await this.detail(accountId, slug, deliveryId);
    const a = result.attempt;
    const attempt = delivery.attempts[delivery.attempts.length - 1] ?? {
      at: a.at, statusCode: a.statusCode, latencyMs: a.latencyMs, error: a.error, responseExcerpt: a.responseExcerpt, requestHeaders: {},
    };
    return { ok: this.toHook(result).ok, delivery, attempt };
  }

  private summary(r: DeliveryRow): DeliverySummary {
    return {
      id: r.id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      eventType: r.event_type,
      state: r.state,
      attemptCount: r.attempts,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      nextAttemptAt: r.state === 'pending' ? iso(r.next_attempt_at) : null,
      createdAt: iso(r.created_at)!,
      completedAt: iso(r.completed_at),
    };
  }

  private async deliveryRow(surveyId: number, deliveryId: string): Promise<DeliveryRow> {
    const [row] = rowsOf<DeliveryRow>(
      await this.db.execute(sql`
        SELECT d.*, ev.type AS event_type FROM deliveries d
        JOIN events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.id = ${deliveryId} AND e.survey_id = ${surveyId}`),
    );
    if (!row) throw new AppError('DELIVERY_NOT_FOUND', 'delivery not found');
    return row;
  }

  async list(accountId: number, slug: string, endpointId: string, q: DeliveryListQuery) {
    const { row: endpoint } = await this.endpoints.row(accountId, slug, endpointId);
    const limit = q.limit ?? 50;
    const before = decodeCursor<number>(q.cursor, 'number');
    const since = timeParam(q.since, '/querystring/since');
    const until = timeParam(q.until, '/querystring/until');
    const rows = rowsOf<DeliveryRow>(
      await this.db.execute(sql`
        SELECT d.*, ev.type AS event_type FROM deliveries d JOIN events ev ON ev.id = d.event_id
        WHERE d.endpoint_id = ${endpoint.id}
          AND (${q.status ?? null}::text IS NULL OR d.state = ${q.status ?? null})
          AND (${q.eventType ?? null}::text IS NULL OR ev.type = ${q.eventType ?? null})
          AND (${since}::timestamptz IS NULL OR d.created_at >= ${since}::timestamptz)
          AND (${until}::timestamptz IS NULL OR d.created_at < ${until}::timestamptz)
          AND (${before}::bigint IS NULL OR d.event_seq < ${before}::bigint)
        ORDER BY d.event_seq DESC
        LIMIT ${limit + 1}`),
    );
    const items = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor(Number(items[items.length - 1].event_seq)) : null;
    return { items: items.map((r) => this.summary(r)), nextCursor };
  }

  async detail(accountId: number, slug: string, deliveryId: string): Promise<DeliveryDetail> {
    const survey = await this.endpointsSurvey(accountId, slug);
    const row = await this.deliveryRow(survey, deliveryId);
    const attempts = rowsOf<{ at: string | Date; status_code: number | null; latency_ms: number | null; error: string | null; response_excerpt: string | null; request_headers: Record<string, string> | string }>(
      await this.db.execute(sql`SELECT at, status_code, latency_ms, error, response_excerpt, request_headers FROM delivery_attempts WHERE delivery_id = ${deliveryId} ORDER BY id`),
    );
    return {
      ...this.summary(row),
      attempts: attempts.map((a) => ({
        at: iso(a.at)!,
        statusCode: a.status_code,
        latencyMs: a.latency_ms,
        error: a.error,
        responseExcerpt: a.response_excerpt,
        requestHeaders: typeof a.request_headers === 'string' ? JSON.parse(a.request_headers) : a.request_headers,
      })),
    };
  }

  private async endpointsSurvey(accountId: number, slug: string): Promise<number> {
    const [row] = rowsOf<{ id: number }>(await this.db.execute(sql`SELECT id FROM surveys WHERE account_id = ${accountId} AND slug = ${slug}`));
    if (!row) throw new AppError('SURVEY_NOT_FOUND', `survey "${slug}" not found`);
    return row.id;
  }

  /** Puts a delivery back in the queue, due now, with a fresh attempt budget. */
  async retry(accountId: number, slug: string, deliveryId: string): Promise<DeliveryDetail> {
    const surveyId = await this.endpointsSurvey(accountId, slug);
    await this.deliveryRow(surveyId, deliveryId);
    const updated = rowsOf<{ id: string }>(
      await this.db.execute(sql`
        WITH u AS (
          UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), completed_at = NULL,
                 leased_until = NULL, leased_by = NULL, updated_at = now()
          WHERE id = ${deliveryId} AND (leased_until IS NULL OR leased_until < now() OR leased_by = 'sync')
          RETURNING id
        )
        SELECT u.id, pg_notify(${deliveriesChannel(this.schemaName)}, '') FROM u`),
    );
    if (updated.length === 0) throw new AppError('CONFLICT', 'an attempt of this delivery is in progress');
    return this.detail(accountId, slug, deliveryId);
  }

  /** Re-enqueues an endpoint's deliveries created in [since, until), optionally of one state. */
  async replay(accountId: number, slug: string, endpointId: string, body: ReplayBody): Promise<{ replayed: number }> {
    const { row: endpoint } = await this.endpoints.row(accountId, slug, endpointId);
    const since = timeParam(body.since, '/body/since')!;
    const until = timeParam(body.until, '/body/until');
    if (until && until <= since) {
      throw new AppError('VALIDATION_FAILED', 'until must be after since', { fields: [{ path: '/body/until', message: 'must be after since' }] });
    }
    const rows = rowsOf<{ n: number }>(
      await this.db.execute(sql`
        WITH u AS (
          UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), completed_at = NULL, updated_at = now()
          WHERE endpoint_id = ${endpoint.id} AND created_at >= ${since}::timestamptz
            AND (${until}::timestamptz IS NULL OR created_at < ${until}::timestamptz)
            AND (${body.status ?? null}::text IS NULL OR state = ${body.status ?? null})
            AND (leased_until IS NULL OR leased_until < now())
          RETURNING 1
        )
        SELECT count(*)::int AS n, pg_notify(${deliveriesChannel(this.schemaName)}, '') FROM u`),
    );
    return { replayed: rows[0]?.n ?? 0 };
  }

  async close() {
    await this.sender.close();
  }
}
