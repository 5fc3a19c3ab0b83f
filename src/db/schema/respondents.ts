import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from './accounts.ts';
import { surveys } from './surveys.ts';

export const RESPONDENT_STATUSES = ['created', 'started', 'completed', 'disqualified', 'quota_full', 'exited'] as const;
export type RespondentStatus = (typeof RESPONDENT_STATUSES)[number];
export const CREATED_VIA = ['admin', 'csv', 'jwt', 'inbound', 'replacement'] as const;
export type CreatedVia = (typeof CREATED_VIA)[number];

/**
 * A respondent of one survey. `id` is the platform's userId; `username` is the third party's
 * identifier (exact match, unique per survey).
 */
export const respondents = pgTable(
  'respondents',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    surveyId: integer('survey_id').notNull().references(() => surveys.id, { onDelete: 'cascade' }),
    username: text('username').notNull(),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    redirectUrl: text('redirect_url'),
    l1: text('l1'), l2: text('l2'), l3: text('l3'), l4: text('l4'), l5: text('l5'),
    l6: text('l6'), l7: text('l7'), l8: text('l8'), l9: text('l9'), l10: text('l10'),
    customFields: jsonb('custom_fields').$type<Record<string, string>>().notNull().default({}),
    status: text('status').$type<RespondentStatus>().notNull().default('created'),
    createdVia: text('created_via').$type<CreatedVia>().notNull(),
    passwordHash: text('password_hash'),
    /** Sealed so it can be exported again; the hash is the lookup key. */
    authTokenSealed: text('auth_token_sealed').notNull(),
    authTokenHash: text('auth_token_hash').notNull(),
    /** Bumped on rotation: respondent sessions carry it and die with the old token. */
    tokenVersion: integer('token_version').notNull().default(1),
    /** Whitelisted query parameters captured from the latest entry link. */
    entryParams: jsonb('entry_params').$type<Record<string, string>>().notNull().default({}),
    entrySurveyId: integer('entry_survey_id'),
    test: boolean('test').notNull().default(false),
    startedAt: timestamp('started_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('respondents_survey_username_uq').on(t.surveyId, t.username),
    uniqueIndex('respondents_auth_token_hash_uq').on(t.authTokenHash),
    index('respondents_survey_status_idx').on(t.surveyId, t.status),
  ],
);

/** Single-use create-user JWT ids, per survey, kept until the token's exp (or 24 h). */
export const usedJwtIds = pgTable(
  'used_jwt_ids',
  {
    surveyId: integer('survey_id').notNull().references(() => surveys.id, { onDelete: 'cascade' }),
    jti: text('jti').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.surveyId, t.jti] })],
);

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Long-running admin work (CSV imports): progress is visible while it runs. */
export const jobs = pgTable('jobs', {
  id: uuid('id').primaryKey().defaultRandom(),
  accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
  kind: text('kind').notNull(),
  state: text('state').$type<JobState>().notNull().default('queued'),
  processed: integer('processed').notNull().default(0),
  total: integer('total'),
  errors: jsonb('errors').$type<unknown[]>().notNull().default([]),
  result: jsonb('result').$type<Record<string, unknown> | null>(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
