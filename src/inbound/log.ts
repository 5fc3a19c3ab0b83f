/**
 * The audit log of inbound calls: one row per call, accepted or refused, never the secrets
 * (no key, no auth, no parameter values — only the names of the fields that changed).
 *
 * An accepted call writes its row in the transaction that makes the change. A refused call
 * writes its row on its own after the rollback: `inbound_log` is the one table a refused
 * request may change (docs/inbound.md says so for the HTTP fuzzer).
 */
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Db, Queryable } from '../db/client.ts';
import { inboundLog } from '../db/schema/index.ts';
import { decodeCursor, page } from '../lib/pagination.ts';

/** What the HTTP layer and the service learn about a call as it goes. */
export interface CallContext {
  accountId: number | null;
  keyId: string | null;
  name: string;
  clientIp: string | null;
  requestId: string;
  surveyId: number | null;
  respondentId: number | null;
  changed: string[];
}

export interface InboundLogView {
  id: number;
  at: string;
  keyId: string | null;
  name: string;
  status: number;
  result: string;
  message: string | null;
  clientIp: string | null;
  surveyId: number | null;
  respondentId: number | null;
  changedFields: string[];
  requestId: string | null;
}

/** Text from the request, made storable: capped, and without U+0000 (PostgreSQL refuses it). */
export function storable(v: string | null, max: number): string | null {
  if (v === null) return null;
  const s = v.replaceAll('\u0000', '\uFFFD');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export class InboundLog {
  constructor(private readonly db: Db) {}

  async write(db: Queryable, ctx: CallContext, status: number, result: string, message: string | null): Promise<void> {
    await db.insert(inboundLog).values({
      accountId: ctx.accountId,
      keyId: ctx.keyId,
      name: storable(ctx.name, 100) ?? '',
      status,
      result,
      message: storable(message, 500),
      clientIp: storable(ctx.clientIp, 64),
      changedFields: ctx.changed,
      surveyId: ctx.surveyId,
      respondentId: ctx.respondentId,
      requestId: storable(ctx.requestId, 128),
    });
  }

  /** Newest first. */
  async list(accountId: number, f: { limit: number; cursor?: string; keyId?: string }): Promise<{ items: InboundLogView[]; nextCursor: string | null }> {
    const before = decodeCursor<number>(f.cursor, 'number');
    const rows = await this.db
      .select()
      .from(inboundLog)
      .where(and(
        eq(inboundLog.accountId, accountId),
        before === null ? undefined : lt(inboundLog.id, before),
        f.keyId === undefined ? undefined : eq(inboundLog.keyId, f.keyId),
      ))
      .orderBy(desc(inboundLog.id))
      .limit(f.limit + 1);
    const p = page(rows, f.limit, (r) => r.id);
    return {
      items: p.items.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        keyId: r.keyId,
        name: r.name,
        status: r.status,
        result: r.result,
        message: r.message,
        clientIp: r.clientIp,
        surveyId: r.surveyId,
        respondentId: r.respondentId,
        changedFields: r.changedFields,
        requestId: r.requestId,
      })),
      nextCursor: p.nextCursor,
    };
  }
}
