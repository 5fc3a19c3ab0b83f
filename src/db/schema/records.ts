import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { surveys } from './surveys.ts';
import { respondents } from './respondents.ts';

export const OUTCOMES = ['completed', 'disqualified', 'quota_full', 'exited'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * A record is one respondent's answers for one attempt: inserted at the first save,
 * updated by later saves, and closed by an outcome (submit, screen-out, exit).
 */
export const records = pgTable(
  'records',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    surveyId: integer('survey_id').notNull().references(() => surveys.id, { onDelete: 'cascade' }),
    respondentId: integer('respondent_id').notNull().references(() => respondents.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull().default(1),
    definitionVersion: integer('definition_version').notNull(),
    answers: jsonb('answers').$type<Record<string, unknown>>().notNull().default({}),
    outcome: text('outcome').$type<Outcome>(),
    statusCode: integer('status_code'),
    reviewLevel: text('review_level'),
    locked: boolean('locked').notNull().default(false),
    reward: text('reward'),
    rewardId: uuid('reward_id'),
    redirectUrl: text('redirect_url'),
    /** Set when counted toward the survey quota (completed, non-test). */
    countsTowardQuota: boolean('counts_toward_quota').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
  },
  (t) => [
    index('records_survey_idx').on(t.surveyId, t.id),
    index('records_respondent_idx').on(t.respondentId, t.attempt),
  ],
);

/** Who changed what on a record, in order. */
export const recordHistory = pgTable(
  'record_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    recordId: integer('record_id').notNull().references(() => records.id, { onDelete: 'cascade' }),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    change: jsonb('change').$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('record_history_record_idx').on(t.recordId, t.id)],
);
