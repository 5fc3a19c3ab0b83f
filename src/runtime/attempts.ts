/**
 * Attempts (panel mode): a survey's `maxAttemptsPerRespondent` (default 1). With N > 1, a
 * respondent who has an outcome and enters again gets their status set back to `started`;
 * the runtime then reads a latest record that carries an outcome as a finished attempt and
 * starts attempt + 1 at the next save. Entry after the N-th attempt is refused (status 10).
 */
import { and, count, eq, isNotNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { records } from '../db/schema/index.ts';

export function maxAttempts(settings: Record<string, unknown> | undefined): number {
  const n = settings?.maxAttemptsPerRespondent;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 1;
}

/** How many attempts of a respondent ended with an outcome. */
export async function attemptsUsed(db: Db | Tx, respondentId: number): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(records).where(and(eq(records.respondentId, respondentId), isNotNull(records.outcome)));
  return Number(n);
}
