import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { accounts, users } from './accounts.ts';

/** Inbound webhook credentials: `key` and `auth` are shown once and kept as SHA-256 hashes. */
export const inboundKeys = pgTable(
  'inbound_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
    keyHash: text('key_hash').notNull().unique(),
    authHash: text('auth_hash').notNull(),
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
    accountId: integer('account_id').notNull(),
    keyId: uuid('key_id'),
    name: text('name').notNull(),
    status: integer('status').notNull(),
    result: text('result').notNull(),
    clientIp: text('client_ip'),
    changedFields: jsonb('changed_fields').$type<string[]>().notNull().default([]),
    respondentId: integer('respondent_id'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('inbound_log_account_idx').on(t.accountId, t.id)],
);
