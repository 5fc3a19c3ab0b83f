/**
 * Panel mode's per-account blocklist of third-party identifiers (respondent usernames):
 * a listed identifier is refused at entry with status 9 (banned), and told nothing about the survey.
 */
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { blocklist } from '../db/schema/index.ts';

export interface BlockEntry {
  identifier: string;
  reason: string | null;
  createdAt: string;
}

const view = (r: typeof blocklist.$inferSelect): BlockEntry => ({ identifier: r.identifier, reason: r.reason, createdAt: r.createdAt.toISOString() });

export class BlocklistService {
  constructor(private readonly db: Db) {}

  /** Adds (or re-describes) an identifier; `created` is false when it was listed already. */
  async add(accountId: number, identifier: string, reason: string | null, userId: number | null): Promise<{ entry: BlockEntry; created: boolean }> {
    const [inserted] = await this.db.insert(blocklist).values({ accountId, identifier, reason, createdBy: userId }).onConflictDoNothing().returning();
    if (inserted) return { entry: view(inserted), created: true };
    const [updated] = await this.db.update(blocklist).set({ reason }).where(and(eq(blocklist.accountId, accountId), eq(blocklist.identifier, identifier))).returning();
    return { entry: view(updated), created: false };
  }

  async list(accountId: number): Promise<BlockEntry[]> {
    const rows = await this.db.select().from(blocklist).where(eq(blocklist.accountId, accountId)).orderBy(asc(blocklist.identifier)).limit(10_000);
    return rows.map(view);
  }

  async remove(accountId: number, identifier: string): Promise<boolean> {
    const rows = await this.db.delete(blocklist).where(and(eq(blocklist.accountId, accountId), eq(blocklist.identifier, identifier))).returning();
    return rows.length > 0;
  }

  /** The same test as a column expression, so an entry can read it with the respondent in one query. */
  blockedSql(accountId: number, identifier: string): SQL<boolean> {
    return sql<boolean>`exists (select 1 from ${blocklist} where ${blocklist.accountId} = ${accountId} and ${blocklist.identifier} = ${identifier})`;
  }

  async isBlocked(accountId: number, identifier: string): Promise<boolean> {
    const [row] = await this.db.select({ id: blocklist.identifier }).from(blocklist).where(and(eq(blocklist.accountId, accountId), eq(blocklist.identifier, identifier)));
    return row !== undefined;
  }
}
