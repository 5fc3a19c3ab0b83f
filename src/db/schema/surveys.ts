import { boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { accounts, users } from './accounts.ts';

export const SURVEY_STATES = ['draft', 'active', 'closed'] as const;
export type SurveyState = (typeof SURVEY_STATES)[number];

/**
 * A survey. The settings every issue reads often are columns; the long tail of settings
 * (outcome URLs, redirect params, status codes, review levels, …) lives in `settings` (jsonb),
 * validated by the surveys domain's TypeBox schema before it is written.
 */
export const surveys = pgTable('surveys', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
  /** Unique across the installation: public URLs carry no account. */
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  state: text('state').$type<SurveyState>().notNull().default('draft'),
  allowUserGeneration: boolean('allow_user_generation').notNull().default(false),
  /** AES-GCM sealed (SecretBox); never returned. */
  jwtSecretSealed: text('jwt_secret_sealed'),
  linkSigningSecretSealed: text('link_signing_secret_sealed'),
  followUpUrl: text('follow_up_url'),
  allowedRedirectOrigins: jsonb('allowed_redirect_origins').$type<string[]>().notNull().default([]),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  definitionVersion: integer('definition_version').notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Every save of a definition is a new version; records keep the version they were answered on. */
export const surveyDefinitions = pgTable(
  'survey_definitions',
  {
    surveyId: integer('survey_id').notNull().references(() => surveys.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.surveyId, t.version] })],
);
