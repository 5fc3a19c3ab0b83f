import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { accounts, users } from './accounts.ts';

/** Inbound webhook credentials: `key` and `auth` are shown once and kept as SHA-256 hashes. */
export const inboundKeys = pgTable(
  'inbound_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
    /** Optional label an admin gives the key (e.g. "CRM"), to tell keys apart while rotating. */
    name: text('name'),
    keyHash: text('key_hash').notNull().unique(),
    authHash: text('auth_hash').notNull(),
    /** The first 4 characters of the key, shown in lists so admins can tell which key a system uses. */
    keyHint: text('key_hint').notNull().default(''),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('inbound_keys_account_idx').on(t.accountId)],
);

/** One row per inbound call: never the secrets. */
export const inboundLog = pgTable(
  'inbound_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** The account the URL names; null when that path segment is not an account id at all. */
    accountId: integer('account_id'),
    keyId: uuid('key_id'),
    name: text('name').notNull(),
    status: integer('status').notNull(),
    result: text('result').notNull(),
    clientIp: text('client_ip'),
    changedFields: jsonb('changed_fields').$type<string[]>().notNull().default([]),
    respondentId: integer('respondent_id'),
    surveyId: integer('survey_id'),
    /** Why a call was refused (the answer's msg); null on success. */
    message: text('message'),
    requestId: text('request_id'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('inbound_log_account_idx').on(t.accountId, t.id)],
);
