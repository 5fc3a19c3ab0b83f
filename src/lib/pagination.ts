/**
 * Cursor pagination: every list answers {items, nextCursor}. The cursor is an opaque
 * base64url of the last row's sort key; a malformed cursor is a 400, never a 500.
 */
import { AppError } from '../errors.ts';

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends string | number>(cursor: string | undefined, kind: 'number' | 'string'): T | null {
  if (!cursor) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === kind) return value as T;
  } catch {
    /* fall through */
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not valid', { fields: [{ path: '/querystring/cursor', message: 'not a cursor from this list' }] });
}

/** Given limit+1 fetched rows, returns the page and the cursor of the next one. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => string | number): { items: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1])) };
}
