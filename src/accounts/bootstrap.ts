/**
 * First start: when the installation has no user yet, create the first account and its
 * owner from ADMIN_EMAIL / ADMIN_PASSWORD, or with a generated password printed once.
 * Advisory-locked so two processes starting together create one admin.
 */
import { sql } from 'drizzle-orm';
import type { Services } from '../services.ts';
import { hashPassword, randomToken } from '../lib/crypto.ts';

export interface BootstrapResult {
  created: boolean;
  email?: string;
  /** Present only when the password was generated (to print once). */
  generatedPassword?: string;
}

export async function bootstrapFirstAdmin(services: Services): Promise<BootstrapResult> {
  const { config, database } = services;
  return database.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('surveybridge:bootstrap'))`);
    const [row] = (await tx.execute(sql`SELECT count(*)::int AS n FROM users`)).rows as { n: number }[];
    if (row.n > 0) return { created: false };
    const email = config.adminEmail ?? 'admin@localhost';
    const generated = config.adminPassword ? undefined : randomToken(18);
    const password = config.adminPassword ?? generated!;
    const passwordHash = await hashPassword(password);
    const [acc] = (await tx.execute(sql`INSERT INTO accounts (name) VALUES ('Default account') RETURNING id`)).rows as { id: number }[];
    const [user] = (await tx.execute(sql`INSERT INTO users (email, password_hash, superuser) VALUES (${email.toLowerCase()}, ${passwordHash}, true) RETURNING id`)).rows as { id: number }[];
    await tx.execute(sql`INSERT INTO memberships (account_id, user_id, role) VALUES (${acc.id}, ${user.id}, 'owner')`);
    return { created: true, email, generatedPassword: generated };
  });
}
