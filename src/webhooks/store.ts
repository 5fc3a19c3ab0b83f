/**
 * The deliveries table as the engine uses it: claiming with a lease, recording attempts with
 * the backoff computed in SQL, and the admin's log, retry and replay. All state lives in the
 * database, so any worker process (or a restarted one) carries on where another stopped.
 */
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../db/client.ts';
import type { StandardEvent } from '../events/outbox.ts';
import type { AttemptResult } from './sender.ts';

/** The documented schedule: delays in seconds after attempts 1..9 (10 attempts in all). */
export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
/** Retry-After is honoured up to this many seconds. */
const MAX_RETRY_AFTER_SECONDS = 86_400;
/** A lease outlives the attempt's timeout by this margin (DB round trips, a slow event loop). */
const LEASE_MARGIN_SECONDS = 5;
/** An endpoint failing without a single success for this long is disabled. */
const FAILING_DAYS_BEFORE_DISABLE = 5;

export type Outcome = 'succeeded' | 'retry' | 'failed' | 'gone';

/** Success is 2xx only; network errors, timeouts, 3xx, 408, 429 and 5xx are worth retrying. */
export function outcomeOf(r: AttemptResult): Outcome {
  const s = r.statusCode;
  if (s === null) return r.blocked ? 'failed' : 'retry';
  if (s >= 200 && s < 300) return 'succeeded';
  if (s === 410) return 'gone';
  if ((s >= 300 && s < 400) || s === 408 || s === 429 || s >= 500) return 'retry';
  return 'failed';
}

export interface RecordedState {
  state: string;
  nextAttemptAt: Date | null;
}

export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventSeq: number;
  event: StandardEvent;
}

const uuidArray = (ids: string[]) => `{${ids.join(',')}}`;

type LoadedRow = { id: string; endpoint_id: string; event_seq: string | number; payload: StandardEvent | string };

/** Rows in event order (the order attempts start in). */
function toClaimed(rows: LoadedRow[]): ClaimedDelivery[] {
  return rows
    .map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      eventSeq: Number(r.event_seq),
      event: typeof r.payload === 'string' ? (JSON.parse(r.payload) as StandardEvent) : r.payload,
    }))
    .sort((a, b) => a.eventSeq - b.eventSeq);
}

export class DeliveryStore {
  readonly schedule: number[];
  constructor(private readonly db: Db, schedule: number[] | null) {
    this.schedule = schedule ?? DEFAULT_RETRY_SCHEDULE;
  }
  get maxAttempts() {
    return this.schedule.length + 1;
  }

  /**
   * Claims up to `limit` due deliveries for worker `owner`. Endpoint rows are locked with
   * SKIP LOCKED so two workers never claim for the same endpoint at once, and an endpoint
   * is skipped while another live worker holds leases on it: one worker serves an endpoint
   * at a time, starting its deliveries in event order. An expired lease (a dead worker)
   * counts as free.
   */
  async claim(owner: string, limit: number, perEndpoint: number): Promise<ClaimedDelivery[]> {
    const rows = rowsOf<LoadedRow>(
      await this.db.execute(sql`
        WITH eps AS (
          SELECT e.id, e.timeout_ms FROM webhook_endpoints e
          WHERE e.enabled
            AND e.id IN (SELECT d.endpoint_id FROM deliveries d
                         WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                           AND (d.leased_until IS NULL OR d.leased_until < now()))
            AND NOT EXISTS (SELECT 1 FROM deliveries o
                            WHERE o.endpoint_id = e.id AND o.state = 'pending' AND o.leased_until >= now()
                              AND o.leased_by <> ${owner} AND o.leased_by NOT LIKE 'sync%')
          LIMIT 100
          FOR NO KEY UPDATE OF e SKIP LOCKED
        ), picked AS (
          SELECT p.id, eps.timeout_ms FROM eps CROSS JOIN LATERAL (
            SELECT d.id, d.event_seq FROM deliveries d
            WHERE d.endpoint_id = eps.id AND d.state = 'pending' AND d.next_attempt_at <= now()
              AND (d.leased_until IS NULL OR d.leased_until < now())
            ORDER BY d.event_seq
            LIMIT ${perEndpoint}
            FOR UPDATE OF d SKIP LOCKED
          ) p
          ORDER BY p.event_seq
          LIMIT ${limit}
        )
        UPDATE deliveries d
        SET leased_until = now() + make_interval(secs => picked.timeout_ms / 1000.0 + ${LEASE_MARGIN_SECONDS}), leased_by = ${owner}
        FROM picked, events ev
        WHERE d.id = picked.id AND ev.id = d.event_id
        RETURNING d.id, d.endpoint_id, d.event_seq, ev.payload`),
    );
    return toClaimed(rows);
  }

  /** Takes the inline (sync) reservation of a delivery, if it is still reserved and pending. */
  async takeReservation(deliveryId: string, token: string): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(
      await this.db.execute(sql`
        UPDATE deliveries d SET leased_by = ${token},
               leased_until = now() + make_interval(secs => e.timeout_ms / 1000.0 + ${LEASE_MARGIN_SECONDS})
        FROM webhook_endpoints e
        WHERE d.id = ${deliveryId} AND e.id = d.endpoint_id AND d.state = 'pending' AND d.leased_by = 'sync'
        RETURNING d.id`),
    );
    return rows.length === 1;
  }

  /** Leases a delivery for an inline re-send (retry button) unless an attempt is in flight. */
  async leaseForResend(deliveryId: string, token: string): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(
      await this.db.execute(sql`
        UPDATE deliveries d SET leased_by = ${token}, state = 'pending', attempts = 0, next_attempt_at = now(), completed_at = NULL,
               leased_until = now() + make_interval(secs => e.timeout_ms / 1000.0 + ${LEASE_MARGIN_SECONDS})
        FROM webhook_endpoints e
        WHERE d.id = ${deliveryId} AND e.id = d.endpoint_id
          AND (d.leased_until IS NULL OR d.leased_until < now() OR d.leased_by = 'sync')
        RETURNING d.id`),
    );
    return rows.length === 1;
  }

  async load(ids: string[]): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const rows = rowsOf<LoadedRow>(
      await this.db.execute(sql`
        SELECT d.id, d.endpoint_id, d.event_seq, ev.payload
        FROM deliveries d JOIN events ev ON ev.id = d.event_id
        WHERE d.id = ANY(${uuidArray(ids)}::uuid[])`),
    );
    return toClaimed(rows);
  }

  /**
   * Records one attempt and moves its delivery on. Attempts finishing together are written
   * in one statement (a query per attempt would be the engine's bottleneck, PGlite above all):
   * each attempt row always lands; a delivery changes only if its `owner` still holds the
   * lease (else another worker took over and owns the outcome). Backoff: the schedule's delay
   * for this attempt number ±20 % jitter, or Retry-After if later (clamped to 24 h).
   */
  record(deliveryId: string, owner: string, at: Date, result: AttemptResult, requestHeaders: Record<string, string>): Promise<RecordedState | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        row: {
          delivery_id: deliveryId, owner, at: at.toISOString(), outcome: outcomeOf(result), status_code: result.statusCode, latency_ms: result.latencyMs,
          error: result.error, response_excerpt: result.responseExcerpt, retry_after: result.retryAfterSeconds, request_headers: requestHeaders,
        },
        resolve,
        reject,
      });
      if (!this.flushing && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private queue: { row: Record<string, unknown>; resolve: (v: RecordedState | null) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private flushScheduled = false;

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    this.flushing = true;
    const items = this.queue.splice(0, 500);
    try {
      const rows = await this.writeAttempts(items.map((i) => i.row));
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const item of items) {
        const r = byId.get(item.row.delivery_id as string);
        item.resolve(r ? { state: r.state, nextAttemptAt: r.state === 'pending' ? new Date(r.next_attempt_at) : null } : null);
      }
    } catch (err) {
      for (const item of items) item.reject(err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    }
  }

  private async writeAttempts(input: Record<string, unknown>[]) {
    const schedule = `{${this.schedule.join(',')}}`;
    const max = this.maxAttempts;
    const days = FAILING_DAYS_BEFORE_DISABLE;
    return rowsOf<{ id: string; state: string; next_attempt_at: string | Date }>(
      await this.db.execute(sql`
        WITH x AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS x(
            delivery_id uuid, owner text, at timestamptz, outcome text, status_code integer, latency_ms integer,
            error text, response_excerpt text, retry_after float8, request_headers jsonb)
        ), upd AS (
          UPDATE deliveries d SET
            attempts = d.attempts + 1,
            state = CASE
              WHEN x.outcome = 'succeeded' THEN 'succeeded'
              WHEN x.outcome = 'retry' AND d.attempts + 1 < ${max} THEN 'pending'
              ELSE 'failed' END,
            next_attempt_at = CASE
              WHEN x.outcome = 'retry' AND d.attempts + 1 < ${max} THEN now() + make_interval(secs => GREATEST(
                (${schedule}::float8[])[d.attempts + 1] * (0.8 + random() * 0.4),
                LEAST(COALESCE(x.retry_after, 0), ${MAX_RETRY_AFTER_SECONDS})))
              ELSE d.next_attempt_at END,
            completed_at = CASE WHEN x.outcome = 'retry' AND d.attempts + 1 < ${max} THEN NULL ELSE now() END,
            leased_until = NULL, leased_by = NULL,
            last_status_code = x.status_code, last_error = x.error, last_latency_ms = x.latency_ms,
            updated_at = now()
          FROM x
          WHERE d.id = x.delivery_id AND d.leased_by = x.owner AND d.state = 'pending'
          RETURNING d.id, d.state, d.next_attempt_at, d.endpoint_id, x.outcome
        ), att AS (
          INSERT INTO delivery_attempts (delivery_id, at, status_code, latency_ms, error, response_excerpt, request_headers)
          SELECT x.delivery_id, x.at, x.status_code, x.latency_ms, x.error, x.response_excerpt, x.request_headers
          FROM x JOIN deliveries d ON d.id = x.delivery_id
          RETURNING 1
        ), health AS (
          SELECT endpoint_id, bool_or(outcome = 'succeeded') AS ok, bool_or(outcome = 'gone') AS gone FROM upd GROUP BY endpoint_id
        ), ep AS (
          -- Touches an endpoint row only when its health changes, so a healthy endpoint's row
          -- is not rewritten on every success.
          UPDATE webhook_endpoints e SET
            failing_since = CASE WHEN h.ok THEN NULL ELSE COALESCE(e.failing_since, now()) END,
            enabled = CASE
              WHEN h.gone THEN false
              WHEN NOT h.ok AND e.failing_since < now() - make_interval(days => ${days}) THEN false
              ELSE e.enabled END,
            disabled_reason = CASE
              WHEN h.gone THEN 'the receiver answered 410 Gone'
              WHEN NOT h.ok AND e.failing_since < now() - make_interval(days => ${days})
                THEN 'every attempt failed for ${sql.raw(String(days))} days'
              ELSE e.disabled_reason END,
            updated_at = now()
          FROM health h
          WHERE e.id = h.endpoint_id
            AND ((h.ok AND e.failing_since IS NOT NULL)
              OR (NOT h.ok AND (e.failing_since IS NULL OR h.gone OR e.failing_since < now() - make_interval(days => ${days}))))
          RETURNING e.id
        )
        SELECT upd.id, upd.state, upd.next_attempt_at, (SELECT count(*) FROM att) AS a, (SELECT count(*) FROM ep) AS e FROM upd`),
    );
  }

  /** Gives back the leases of a stopping worker (none should be left; this is the safety net). */
  async release(owner: string): Promise<void> {
    await this.db.execute(sql`UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE leased_by = ${owner} AND state = 'pending'`);
  }

  /** When the worker should look again: the earliest future due time (retry or lease end), if any. */
  async nextDueAt(): Promise<Date | null> {
    const rows = rowsOf<{ at: string | Date | null }>(
      await this.db.execute(sql`
        SELECT min(GREATEST(d.next_attempt_at, COALESCE(d.leased_until, d.next_attempt_at))) AS at
        FROM deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.state = 'pending' AND e.enabled AND GREATEST(d.next_attempt_at, COALESCE(d.leased_until, d.next_attempt_at)) > now()`),
    );
    return rows[0]?.at ? new Date(rows[0].at) : null;
  }

  /**
   * Deletes attempts and finished deliveries older than RETENTION_DAYS (events are not ours to
   * delete), in batches of `batchSize` rows, each its own short statement, so the clean-up
   * never holds many row locks or a long transaction while traffic goes on. `keepGoing` is
   * asked between batches (a stopping worker ends the clean-up early; the next run resumes).
   */
  async purge(retentionDays: number, opts: { batchSize?: number; keepGoing?: () => boolean } = {}): Promise<{ attempts: number; deliveries: number }> {
    const batch = opts.batchSize ?? 5000;
    const keepGoing = opts.keepGoing ?? (() => true);
    const deleted = { attempts: 0, deliveries: 0 };
    const count = (res: unknown) => Number((res as { rowCount?: number | null; affectedRows?: number }).rowCount ?? (res as { affectedRows?: number }).affectedRows ?? 0);
    for (;;) {
      const n = count(await this.db.execute(sql`
        DELETE FROM delivery_attempts WHERE id IN (
          SELECT id FROM delivery_attempts WHERE at < now() - make_interval(days => ${retentionDays}) ORDER BY at LIMIT ${batch})`));
      deleted.attempts += n;
      if (n < batch || !keepGoing()) break;
    }
    for (;;) {
      if (!keepGoing()) break;
      const n = count(await this.db.execute(sql`
        DELETE FROM deliveries WHERE id IN (
          SELECT id FROM deliveries WHERE state IN ('succeeded', 'failed')
            -- A finished delivery was due before it finished: this bound lets deliveries_due_idx find them.
            AND next_attempt_at < now() - make_interval(days => ${retentionDays})
            AND completed_at < now() - make_interval(days => ${retentionDays}) LIMIT ${batch})`));
      deleted.deliveries += n;
      if (n < batch) break;
    }
    return deleted;
  }
}
