/**
 * One database handle for both engines: PostgreSQL (DATABASE_URL) through `pg`, or the
 * embedded PGlite (files under DATA_DIR). The same Drizzle schema and SQL migrations serve
 * both; the raw SQL we write (SKIP LOCKED, LISTEN/NOTIFY, advisory locks) works in both.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import * as schema from './schema/index.ts';

export type Db = NodePgDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything that can run a query: the database or an open transaction. */
export type Queryable = Db | Tx;

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
const MIGRATIONS_TABLE = '__drizzle_migrations';

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  schemaName: string;
  /** Runs `onMessage` for every NOTIFY on `channel` until the returned function is called. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  migrate(): Promise<void>;
  /** True when every committed migration has been applied. */
  migrationsApplied(): Promise<boolean>;
  ping(): Promise<void>;
  /** Pool figures for /metrics (zeros on PGlite). */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | null;
  schemaName: string;
  /** PGlite directory; null = in memory (tests). */
  pgliteDir: string | null;
  poolSize?: number;
}

function journalEntryCount(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** Rows of a raw `db.execute` result on either driver. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.schemaName, opts.poolSize ?? 10) : openPglite(opts.pgliteDir);
}

async function openPostgres(url: string, schemaName: string, poolSize: number): Promise<Database> {
  const quoted = `"${schemaName}"`;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // A query never hangs a request forever; the request timeout is shorter still.
    options: `-c search_path=${schemaName} -c statement_timeout=30000`,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  // Nor may a checked-out one (inside a transaction, between two statements): the error is
  // swallowed here, the next query on that client fails (DATABASE_UNAVAILABLE), and the pool
  // drops it when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = drizzlePg(pool, { schema });
  const lockKey = `surveybridge:migrate:${schemaName}`;

  return {
    db,
    kind: 'postgres',
    schemaName,
    async listen(channel, onMessage) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (n) => {
        if (n.channel === channel) onMessage(n.payload ?? '');
      });
      await client.query(`LISTEN "${channel}"`);
      return async () => {
        await client.end().catch(() => {});
      };
    },
    async migrate() {
      // One connection holds the advisory lock for the whole run, so processes starting
      // together apply migrations one at a time and the later ones find nothing to do.
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
        await migratePg(drizzlePg(client, { schema }), {
          migrationsFolder: MIGRATIONS_FOLDER,
          migrationsSchema: schemaName,
          migrationsTable: MIGRATIONS_TABLE,
        });
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
        client.release();
      }
    },
    async migrationsApplied() {
      const res = await pool.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
        [schemaName, MIGRATIONS_TABLE],
      );
      if (res.rows[0].n === 0) return false;
      const applied = await pool.query(`SELECT count(*)::int AS n FROM ${quoted}."${MIGRATIONS_TABLE}"`);
      return applied.rows[0].n >= journalEntryCount();
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(dir: string | null): Promise<Database> {
  const client = dir ? new PGlite(dir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  let closed = false;
  return {
    db,
    kind: 'pglite',
    schemaName: 'public',
    async listen(channel, onMessage) {
      const unsubscribe = await client.listen(channel, onMessage);
      return async () => {
        if (!closed) await unsubscribe();
      };
    },
    async migrate() {
      // PGlite is one in-process connection: nothing else can race this.
      await migratePglite(drizzlePglite(client, { schema }), {
        migrationsFolder: MIGRATIONS_FOLDER,
        migrationsSchema: 'public',
        migrationsTable: MIGRATIONS_TABLE,
      });
    },
    async migrationsApplied() {
      const res = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`,
        [MIGRATIONS_TABLE],
      );
      if (res.rows[0].n === 0) return false;
      const applied = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM public."${MIGRATIONS_TABLE}"`);
      return applied.rows[0].n >= journalEntryCount();
    },
    async ping() {
      await client.query('SELECT 1');
    },
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    async close() {
      closed = true;
      await client.close();
    },
  };
}

