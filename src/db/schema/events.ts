/**
 * Terminology (defined once, used everywhere):
 * - event: something that happened (`submission.completed`), written in the same transaction
 *   as the change that caused it. Its id is the `webhook-id` receivers de-duplicate on.
 * - endpoint: a subscriber URL with its settings.
 * - delivery: one event for one endpoint; the outbox row the worker claims.
 * - attempt: one HTTP request of a delivery.
 * - lease: a claim on a delivery by one worker until `leased_until`; a worker that dies
 *   leaves its lease to expire and another worker takes the delivery again.
 */
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { accounts } from './accounts.ts';
import { surveys } from './surveys.ts';

export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Total order of events (delivery order per endpoint follows it). */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
    surveyId: integer('survey_id').references(() => surveys.id, { onDelete: 'cascade' }),
    respondentId: integer('respondent_id'),
    type: text('type').notNull(),
    /** The `standard` body, as delivered. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    test: boolean('test').notNull().default(false),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('events_survey_idx').on(t.surveyId, t.seq), index('events_occurred_idx').on(t.occurredAt)],
);

export const WEBHOOK_AUTH_TYPES = ['jwt', 'basic', 'hmac', 'none'] as const;
export type WebhookAuthType = (typeof WEBHOOK_AUTH_TYPES)[number];

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
    surveyId: integer('survey_id').notNull().references(() => surveys.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    format: text('format').$type<'standard' | 'trialkit'>().notNull().default('standard'),
    mode: text('mode').$type<'async' | 'sync'>().notNull().default('async'),
    timeoutMs: integer('timeout_ms').notNull().default(10_000),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    /** Sealed JSON of extra static headers (they may carry credentials). */
    headersSealed: text('headers_sealed'),
    authType: text('auth_type').$type<WebhookAuthType>().notNull().default('none'),
    /** Sealed JSON: basic {username,password}, hmac {secret}, jwt {secret?, issuer?}. */
    authSealed: text('auth_sealed'),
    /** Previous hmac secret, still signing until `previous_secret_expires_at`. */
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    /** Set by the survey's submissionNotificationUrl shorthand; managed through the survey. */
    managedBy: text('managed_by'),
    /** Start of the current run of failures (null after a success); 5 days of it disables. */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_survey_idx').on(t.surveyId)],
);

export const DELIVERY_STATES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id').notNull().references(() => events.id, { onDelete: 'cascade' }),
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    endpointId: uuid('endpoint_id').notNull().references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    state: text('state').$type<DeliveryState>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leasedUntil: timestamp('leased_until', { withTimezone: true }),
    leasedBy: text('leased_by'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastLatencyMs: integer('last_latency_ms'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    index('deliveries_due_idx').on(t.state, t.nextAttemptAt),
    index('deliveries_endpoint_idx').on(t.endpointId, t.eventSeq),
    // The worker's claim walks an endpoint's pending deliveries in event order; finished ones pile up.
    index('deliveries_pending_endpoint_idx').on(t.endpointId, t.eventSeq).where(sql`state = 'pending'`),
    index('deliveries_event_idx').on(t.eventId),
  ],
);

export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: uuid('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    responseExcerpt: text('response_excerpt'),
    requestHeaders: jsonb('request_headers').$type<Record<string, string>>().notNull().default({}),
  },
  (t) => [index('delivery_attempts_delivery_idx').on(t.deliveryId, t.id), index('delivery_attempts_at_idx').on(t.at)],
);
