/**
 * An HTTP fuzzer driven by the OpenAPI document: every route gets random and boundary
 * params, queries, bodies and headers, with and without credentials. It passes when nothing
 * answers 5xx, every error has the route's error shape, and no rejected request (4xx)
 * changed the database. The one documented exception is the inbound audit log, which records
 * rejected inbound calls on purpose.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { setupApp } from '../helpers/app.ts';
import { rowsOf } from '../../src/db/client.ts';

const AUDIT_TABLES = new Set(['inbound_log']);

const BOUNDARY_STRINGS = ['', ' ', 'x', '0', '-1', '1e309', '99999999999999999999', 'null', 'true', '__proto__', 'constructor', '%00', '\u0000', '\ud800', 'ü😀', '<script>', "'; DROP TABLE surveys; --", '../../etc/passwd', 'a'.repeat(5000)];
const BOUNDARY_VALUES: unknown[] = [...BOUNDARY_STRINGS, null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, [], [1, 'a', null], {}, { __proto__: { polluted: 1 } }, JSON.parse('{"__proto__":{"polluted":1}}'), { constructor: { prototype: { polluted: 1 } } }];

/** Percent-encodes, sending invalid UTF-8 bytes for strings that cannot be encoded (lone surrogates). */
function enc(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
}

interface Operation {
  method: string;
  path: string;
  params: string[];
  query: string[];
  bodyProps: string[];
  hasBody: boolean;
}

function operations(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (path.startsWith('/api/docs') || path.startsWith('/assets')) continue;
    for (const [method, op] of Object.entries(methods)) {
      const parameters = (op.parameters ?? []) as { in: string; name: string }[];
      const content = (op.requestBody as { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } | undefined)?.content;
      const schema = content ? Object.values(content)[0]?.schema : undefined;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyProps: Object.keys(schema?.properties ?? {}),
        hasBody: Boolean(content),
      });
    }
  }
  return ops;
}

async function fingerprint(db: import('../../src/db/client.ts').Db): Promise<Record<string, string>> {
  const tables = rowsOf<{ tablename: string }>(await db.execute(sql`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE '%drizzle%' ORDER BY 1`));
  const out: Record<string, string> = {};
  for (const { tablename } of tables) {
    if (AUDIT_TABLES.has(tablename)) continue;
    const [row] = rowsOf<{ h: string | null; n: number }>(
      await db.execute(sql.raw(`SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS h, count(*)::int AS n FROM "${tablename}" t`)),
    );
    out[tablename] = `${row.n}:${row.h}`;
  }
  return out;
}

describe('OpenAPI-driven fuzzing', () => {
  const ctx = setupApp();

  it('never answers 5xx, always uses the error shape, and never writes on rejection', async () => {
    const admin = await ctx.newAdmin('owner');
    const slug = await ctx.newSurvey(admin, { state: 'active' });
    const doc = (await ctx.inject({ method: 'GET', url: '/api/docs/json' })).json();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(10);
    const db = ctx.services().database.db;
    const rng = fc.sample(fc.anything({ withObjectString: true, withNullPrototype: false }), { numRuns: 400, seed: 42 });
    const failures: string[] = [];
    let requests = 0;
    // Requests run one at a time, so the state after one request is the state before the next.
    let before = await fingerprint(db);

    for (const op of ops) {
      for (let i = 0; i < 14; i++) {
        const pick = <T>(list: T[]) => list[(i * 7 + op.path.length + requests) % list.length];
        const paramValue = (name: string) => (i % 3 === 0 && name === 'slug' ? slug : String(pick(BOUNDARY_STRINGS)).slice(0, 300) || 'x');
        const url = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => enc(paramValue(name)));
        const query = op.query.map((q, j) => `${enc(q)}=${enc(String(BOUNDARY_STRINGS[(i + j) % BOUNDARY_STRINGS.length]).slice(0, 500))}`);
        if (i % 4 === 1) query.push('__proto__=1', 'constructor=x');
        const withAuth = i % 2 === 0;
        const headers: Record<string, string> = withAuth ? { ...admin.headers } : {};
        if (i % 5 === 3) headers['x-account'] = String(pick(BOUNDARY_STRINGS)).slice(0, 100).replace(/[^\x20-\x7e]/g, '?');
        if (i % 7 === 6) headers['x-huge'] = 'h'.repeat(8000);
        let payload: string | undefined;
        if (op.hasBody || i % 6 === 5) {
          const variant = i % 4;
          let body: unknown;
          if (variant === 0) body = rng[(requests * 13) % rng.length];
          else if (variant === 1) body = pick(BOUNDARY_VALUES);
          else body = Object.fromEntries(op.bodyProps.map((p, j) => [p, BOUNDARY_VALUES[(i + j * 3) % BOUNDARY_VALUES.length]]));
          payload = i === 13 ? '{"unterminated": ' : JSON.stringify(body) ?? 'null';
          headers['content-type'] = i % 9 === 8 ? 'text/plain' : 'application/json';
        }
        requests++;
        const target = `${url}${query.length ? `?${query.join('&')}` : ''}`;
        const res = await ctx.inject({ method: op.method as 'GET', url: target, headers, payload });
        const label = `${op.method} ${target.slice(0, 160)} → ${res.statusCode}`;
        const after = await fingerprint(db);
        const previous = before;
        before = after;
        if (res.statusCode >= 500) {
          failures.push(`${label}: ${res.body.slice(0, 300)}`);
          continue;
        }
        if (res.statusCode >= 400) {
          const type = String(res.headers['content-type'] ?? '');
          if (type.includes('application/json')) {
            const body = res.json();
            const inboundShape = body?.type === 'error' && typeof body.msg === 'string';
            const apiShape = typeof body?.error?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(body.error.code) && typeof body.error.message === 'string' && typeof body.error.requestId === 'string';
            if (!inboundShape && !apiShape) failures.push(`${label}: bad error shape ${res.body.slice(0, 200)}`);
          } else if (!type.includes('text/html')) {
            failures.push(`${label}: error answered as ${type}`);
          }
          const changed = Object.keys(after).filter((t) => after[t] !== previous[t]);
          if (changed.length) failures.push(`${label} changed the database (${changed.join(', ')})`);
        }
      }
    }
    console.log(`fuzzer: ${ops.length} operations, ${requests} requests, ${failures.length} failures`);
    expect(failures).toEqual([]);
    // Prototype pollution through any body or query would show up here.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await ctx.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 300_000);
});
