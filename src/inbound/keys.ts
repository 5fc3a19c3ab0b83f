/**
 * Inbound webhook keys: a `key` and an `auth`, both random and URL-safe, shown once and kept
 * as SHA-256 hashes. Several may be active at once so a third party can rotate without a gap.
 *
 * Authentication costs the same for a wrong key as for a wrong auth: one indexed lookup by
 * the key's hash, then one constant-time comparison of the auth's hash (against a dummy hash
 * when the key is unknown), and one answer for every failure.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { inboundKeys } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { randomToken, safeEqual, sha256Hex } from '../lib/crypto.ts';
import { decodeCursor, encodeCursor } from '../lib/pagination.ts';

/** 24 random bytes (192 bits) each, base64url: 32 characters. */
const SECRET_BYTES = 24;
const HINT_CHARS = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InboundKeyView {
  id: string;
  name: string | null;
  /** The key's first characters, to tell keys apart. */
  keyHint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  active: boolean;
}

export interface CreatedInboundKey extends InboundKeyView {
  accountId: number;
  key: string;
  auth: string;
  /** The URL to give a third party, with `{name}` for the webhook name. */
  urlTemplate: string;
}

export interface Authenticated {
  keyId: string;
  accountId: number;
}

type KeyRow = typeof inboundKeys.$inferSelect;

function view(row: KeyRow): InboundKeyView {
  return {
    id: row.id,
    name: row.name,
    keyHint: row.keyHint,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    active: row.revokedAt === null,
  };
}

/** The account id a URL segment names, or null when it cannot be one. */
export function accountIdOf(segment: string): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(segment)) return null;
  const n = Number(segment);
  return n <= 2_147_483_647 ? n : null;
}

export class InboundKeys {
  /** Compared against when the key is unknown, so that case costs what a wrong auth costs. */
  private readonly dummyHash = sha256Hex(randomToken(SECRET_BYTES));

  constructor(private readonly db: Db, private readonly publicUrl: string) {}

  urlTemplate(accountId: number, key: string, auth: string): string {
    return `${this.publicUrl}/webhooks/${accountId}/${key}/${auth}/{name}`;
  }

  async create(accountId: number, createdBy: number | null, name: string | null): Promise<CreatedInboundKey> {
    const key = randomToken(SECRET_BYTES);
    const auth = randomToken(SECRET_BYTES);
    const [row] = await this.db
      .insert(inboundKeys)
      .values({ accountId, createdBy, name, keyHash: sha256Hex(key), authHash: sha256Hex(auth), keyHint: key.slice(0, HINT_CHARS) })
      .returning();
    return { ...view(row), accountId, key, auth, urlTemplate: this.urlTemplate(accountId, key, auth) };
  }

  /** Oldest first, revoked ones included (with `revokedAt`), never the secrets. */
  async list(accountId: number, limit: number, cursor?: string): Promise<{ items: InboundKeyView[]; nextCursor: string | null }> {
    const after = decodeCursor<string>(cursor, 'string');
    let cond = sql`true`;
    if (after !== null) {
      // Millisecond timestamps in the cursor: compare at that precision so no row is skipped.
      const [at, id] = after.split('|');
      if (!id || !UUID.test(id) || Number.isNaN(Date.parse(at))) {
        throw new AppError('VALIDATION_FAILED', 'cursor is not valid', { fields: [{ path: '/querystring/cursor', message: 'not a cursor from this list' }] });
      }
      cond = sql`(date_trunc('milliseconds', ${inboundKeys.createdAt}), ${inboundKeys.id}) > (${at}::timestamptz, ${id}::uuid)`;
    }
    const rows = await this.db
      .select()
      .from(inboundKeys)
      .where(and(eq(inboundKeys.accountId, accountId), cond))
      .orderBy(sql`date_trunc('milliseconds', ${inboundKeys.createdAt})`, inboundKeys.id)
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor = rows.length > limit ? encodeCursor(`${last.createdAt.toISOString()}|${last.id}`) : null;
    return { items: items.map(view), nextCursor };
  }

  /** Revokes at once; revoking a revoked key is a no-op. Another account's key is "not found". */
  async revoke(accountId: number, id: string): Promise<void> {
    const [row] = await this.db
      .select({ id: inboundKeys.id })
      .from(inboundKeys)
      .where(and(eq(inboundKeys.id, id), eq(inboundKeys.accountId, accountId)));
    if (!row) throw new AppError('INBOUND_KEY_NOT_FOUND', 'inbound key not found');
    await this.db
      .update(inboundKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(inboundKeys.id, id), isNull(inboundKeys.revokedAt)));
  }

  /**
   * Checks the credentials of a URL. Returns the key, or throws 401 — the same answer for an
   * unknown account, an unknown or revoked key and a wrong auth. `onKnownKey` learns the key id
   * when the key exists in that account (the audit log names it even when the auth is wrong).
   */
  async authenticate(accountSegment: string, key: string, auth: string, onKnownKey: (keyId: string) => void): Promise<Authenticated> {
    const accountId = accountIdOf(accountSegment);
    const [row] = await this.db
      .select({ id: inboundKeys.id, accountId: inboundKeys.accountId, authHash: inboundKeys.authHash, revokedAt: inboundKeys.revokedAt })
      .from(inboundKeys)
      .where(eq(inboundKeys.keyHash, sha256Hex(key)));
    const authOk = safeEqual(sha256Hex(auth), row?.authHash ?? this.dummyHash);
    const inAccount = row !== undefined && accountId !== null && row.accountId === accountId;
    if (inAccount) onKnownKey(row.id);
    if (!inAccount || !authOk || row.revokedAt !== null) {
      throw new AppError('INVALID_CREDENTIALS', 'unknown or revoked webhook key or auth');
    }
    return { keyId: row.id, accountId: row.accountId };
  }

  /** Notes a successful use, at most once a minute per key so busy keys do not queue on one row. */
  async touch(keyId: string): Promise<void> {
    await this.db.execute(sql`
      UPDATE inbound_keys SET last_used_at = now()
      WHERE id = ${keyId} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`);
  }
}
