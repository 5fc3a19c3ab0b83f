/**
 * The outbox. Every change that users or other systems must hear about calls `emitEvent`
 * with the transaction that makes the change: the event row and one delivery row per
 * subscribed endpoint commit together with the change, or not at all. The worker (and, for
 * sync endpoints, the request after commit) turns deliveries into HTTP attempts.
 * See src/db/schema/events.ts for the terms event / endpoint / delivery / attempt / lease.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/client.ts';

export const EVENT_TYPES = [
  'respondent.created',
  'respondent.updated',
  'session.started',
  'record.inserted',
  'record.updated',
  'record.review_changed',
  'submission.completed',
  'session.disqualified',
  'session.quota_full',
  'session.exited',
  'ping',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface SurveyRef {
  id: number;
  slug: string;
  name: string;
  accountId: number;
}

export interface RespondentRef {
  userId: number;
  username: string;
  test?: boolean;
  /** The survey the respondent entered through, when it is another one (a replacement survey). */
  entrySurveyId?: number | null;
}

/** The `standard` webhook body; stored as the event's payload and delivered as is. */
export interface StandardEvent<D = Record<string, unknown>> {
  id: string;
  type: EventType;
  occurredAt: string;
  survey: { id: number; slug: string; name: string };
  respondent: { userId: number; username: string } | null;
  /**
   * Panel mode: the survey the respondent entered through (inBrain's entrySurveyId), present
   * only when it is not `survey`, i.e. the respondent was moved into `survey` as a replacement.
   */
  entrySurvey?: { id: number; slug: string; name: string };
  test?: boolean;
  data: D;
}

export interface EmittedEvent {
  event: StandardEvent;
  /** Deliveries for `mode: "sync"` endpoints, to be attempted inline once the transaction commits. */
  syncDeliveryIds: string[];
}

/** NOTIFY channel the worker listens on (per schema, so test schemas do not wake each other). */
export const deliveriesChannel = (schemaName: string) => `surveybridge_deliveries_${schemaName}`;

/** How long a sync delivery is reserved for the request that will attempt it inline. */
const SYNC_RESERVATION_SECONDS = 60;

export async function emitEvent(
  tx: Tx,
  schemaName: string,
  input: {
    type: EventType;
    survey: SurveyRef;
    respondent: RespondentRef | null;
    data: Record<string, unknown>;
    onlyEndpointId?: string;
    /**
     * The caller will attempt `sync` endpoints inline after commit (runSyncDeliveries) and
     * answer with their results. Callers that do not (respondent creation from the API, CSV,
     * JWT or inbound webhooks) leave them to the worker at once rather than to a reservation.
     */
    inline?: boolean;
    /** Reserve every delivery for the caller to attempt inline, whatever the endpoint's mode (the test button). */
    reserveAll?: boolean;
  },
): Promise<EmittedEvent> {
  const id = randomUUID();
  const occurredAt = new Date();
  const test = input.respondent?.test === true;
  const entrySurveyId = input.respondent?.entrySurveyId;
  const entrySurvey = entrySurveyId && entrySurveyId !== input.survey.id
    ? rowsOf<{ id: number; slug: string; name: string }>(await tx.execute(sql`SELECT id, slug, name FROM surveys WHERE id = ${entrySurveyId}`))[0]
    : undefined;
  const event: StandardEvent = {
    id,
    type: input.type,
    occurredAt: occurredAt.toISOString(),
    survey: { id: input.survey.id, slug: input.survey.slug, name: input.survey.name },
    respondent: input.respondent ? { userId: input.respondent.userId, username: input.respondent.username } : null,
    ...(entrySurvey ? { entrySurvey: { id: entrySurvey.id, slug: entrySurvey.slug, name: entrySurvey.name } } : {}),
    ...(test ? { test: true } : {}),
    data: input.data,
  };
  const inserted = rowsOf<{ seq: string | number }>(
    await tx.execute(sql`
      INSERT INTO events (id, account_id, survey_id, respondent_id, type, payload, test, occurred_at)
      VALUES (${id}, ${input.survey.accountId}, ${input.survey.id}, ${input.respondent?.userId ?? null}, ${input.type},
              ${JSON.stringify(event)}::jsonb, ${test}, ${occurredAt.toISOString()}::timestamptz)
      RETURNING seq`),
  );
  const seq = Number(inserted[0].seq);
  // Fan out to every enabled endpoint of the survey that subscribes to this type.
  // Sync endpoints get a reservation (a lease held by "sync") so the worker leaves them to
  // the request; if that process dies, the lease expires and the worker delivers them.
  const fanned = rowsOf<{ id: string; leased_by: string | null }>(
    await tx.execute(sql`
      INSERT INTO deliveries (event_id, event_seq, endpoint_id, leased_until, leased_by)
      SELECT ${id}, ${seq}, e.id,
             CASE WHEN (e.mode = 'sync' AND ${input.inline === true}) OR ${input.reserveAll === true} THEN now() + make_interval(secs => ${SYNC_RESERVATION_SECONDS}) END,
             CASE WHEN (e.mode = 'sync' AND ${input.inline === true}) OR ${input.reserveAll === true} THEN 'sync' END
      FROM webhook_endpoints e
      WHERE e.survey_id = ${input.survey.id}
        AND CASE WHEN ${input.onlyEndpointId ?? null}::uuid IS NULL
                 THEN e.enabled AND (e.events @> '["*"]'::jsonb OR e.events @> ${JSON.stringify([input.type])}::jsonb)
                 -- A test send goes to the one endpoint asked for, whatever it subscribes to.
                 ELSE e.id = ${input.onlyEndpointId ?? null}::uuid END
      RETURNING id, leased_by`),
  );
  if (fanned.some((d) => d.leased_by !== 'sync')) {
    // Delivered to listeners at commit, and dropped if the transaction rolls back.
    await tx.execute(sql`SELECT pg_notify(${deliveriesChannel(schemaName)}, '')`);
  }
  return { event, syncDeliveryIds: fanned.filter((d) => d.leased_by === 'sync').map((d) => d.id) };
}

export interface BulkEventInput {
  type: EventType;
  survey: SurveyRef;
  respondent: RespondentRef | null;
  data: Record<string, unknown>;
}

/**
 * Emits many events in two statements (bulk imports): the events and their deliveries
 * commit with the transaction, like `emitEvent`. Deliveries for `sync` endpoints are left
 * to the worker here (nobody waits inline for a bulk import); returns the events.
 */
export async function emitEvents(tx: Tx, schemaName: string, inputs: BulkEventInput[]): Promise<StandardEvent[]> {
  if (inputs.length === 0) return [];
  const occurredAt = new Date().toISOString();
  const events: StandardEvent[] = [];
  // Respondents moved in from another survey carry `entrySurvey`, as emitEvent gives them: one read for the batch.
  const entryIds = [...new Set(inputs.flatMap((i) => (i.respondent?.entrySurveyId && i.respondent.entrySurveyId !== i.survey.id ? [i.respondent.entrySurveyId] : [])))];
  const entrySurveys = new Map<number, { id: number; slug: string; name: string }>();
  if (entryIds.length > 0) {
    const found = rowsOf<{ id: number; slug: string; name: string }>(await tx.execute(sql`
      SELECT id, slug, name FROM surveys WHERE id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(entryIds)}::jsonb))::int)`));
    for (const f of found) entrySurveys.set(f.id, { id: f.id, slug: f.slug, name: f.name });
  }
  const rows = inputs.map((input) => {
    const test = input.respondent?.test === true;
    const entrySurvey = input.respondent?.entrySurveyId ? entrySurveys.get(input.respondent.entrySurveyId) : undefined;
    const event: StandardEvent = {
      id: randomUUID(),
      type: input.type,
      occurredAt,
      survey: { id: input.survey.id, slug: input.survey.slug, name: input.survey.name },
      respondent: input.respondent ? { userId: input.respondent.userId, username: input.respondent.username } : null,
      ...(entrySurvey ? { entrySurvey } : {}),
      ...(test ? { test: true } : {}),
      data: input.data,
    };
    events.push(event);
    return {
      id: event.id,
      account_id: input.survey.accountId,
      survey_id: input.survey.id,
      respondent_id: input.respondent?.userId ?? null,
      type: input.type,
      payload: event,
      test,
    };
  });
  const fanned = rowsOf<{ n: number }>(
    await tx.execute(sql`
      WITH ev AS (
        INSERT INTO events (id, account_id, survey_id, respondent_id, type, payload, test, occurred_at)
        SELECT x.id, x.account_id, x.survey_id, x.respondent_id, x.type, x.payload, x.test, ${occurredAt}::timestamptz
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS x(id uuid, account_id integer, survey_id integer, respondent_id integer, type text, payload jsonb, test boolean)
        RETURNING id, seq, survey_id, type
      ), d AS (
        INSERT INTO deliveries (event_id, event_seq, endpoint_id)
        SELECT ev.id, ev.seq, e.id
        FROM ev JOIN webhook_endpoints e ON e.survey_id = ev.survey_id
        WHERE e.enabled AND (e.events @> '["*"]'::jsonb OR e.events @> jsonb_build_array(ev.type))
        ORDER BY ev.seq
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM d`),
  );
  if (fanned[0].n > 0) await tx.execute(sql`SELECT pg_notify(${deliveriesChannel(schemaName)}, '')`);
  return events;
}
