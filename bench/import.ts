/**
 * bench/import: a 100,000-row CSV (no passwords) imported through
 * `POST /api/admin/surveys/{slug}/respondents/import` into a running server: wall time from
 * the upload to the job's success, and the server's peak RSS during the import (VmHWM, reset
 * just before it). Baseline in the same run: a raw multi-row INSERT of the same rows into the
 * same table (1,000 rows per statement, one transaction, same database kind), from this process.
 *   npx tsx bench/import.ts [--quick] [--postgres]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { POSTGRES_URL, cliOptions, dropSchema, ratio, startServer, type BenchOptions, type SummaryRow } from './lib.ts';
import { openDatabase } from '../src/db/client.ts';

interface Row { username: string; name: string; email: string; l1: string; l2: string }

function rows(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    username: `panel-${String(i).padStart(7, '0')}`,
    name: `Respondent ${i}`,
    email: `r${i}@example.org`,
    l1: `group-${i % 10}`,
    l2: `wave-${i % 3}`,
  }));
}

function procKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The same rows, as one transaction of 1,000-row INSERT statements straight into `respondents`. */
async function rawInsert(database: 'pglite' | 'postgres', data: Row[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-raw-'));
  const schema = `bench_raw_${randomBytes(4).toString('hex')}`;
  const db = await openDatabase({ databaseUrl: database === 'postgres' ? POSTGRES_URL : null, schemaName: database === 'postgres' ? schema : 'public', pgliteDir: join(dir, 'pg') });
  try {
    await db.migrate();
    const acc = await db.db.execute(sql`INSERT INTO accounts (name) VALUES ('raw') RETURNING id`);
    const accountId = (acc as unknown as { rows: { id: number }[] }).rows[0].id;
    const sv = await db.db.execute(sql`INSERT INTO surveys (account_id, slug, name) VALUES (${accountId}, 'raw', 'raw') RETURNING id`);
    const surveyId = (sv as unknown as { rows: { id: number }[] }).rows[0].id;
    const started = performance.now();
    await db.db.transaction(async (tx) => {
      for (let i = 0; i < data.length; i += 1000) {
        const values = data.slice(i, i + 1000).map((r, j) => sql`(${surveyId}, ${r.username}, ${r.name}, ${r.email}, ${r.l1}, ${r.l2}, ${'sealed-' + (i + j)}, ${'hash-' + (i + j)}, 'csv')`);
        await tx.execute(sql`INSERT INTO respondents (survey_id, username, name, email, l1, l2, auth_token_sealed, auth_token_hash, created_via) VALUES ${sql.join(values, sql`, `)}`);
      }
    });
    return performance.now() - started;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    if (database === 'postgres') await dropSchema(schema);
  }
}

export async function run(opts: BenchOptions) {
  const count = Number(process.env.BENCH_IMPORT_ROWS ?? (opts.quick ? 10_000 : 100_000));
  const data = rows(count);
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-csv-'));
  const file = join(dir, 'respondents.csv');
  writeFileSync(file, 'username,name,email,l1,l2\n' + data.map((r) => `${r.username},${r.name},${r.email},${r.l1},${r.l2}`).join('\n') + '\n');
  const csv = readFileSync(file);

  const server = await startServer({ database: opts.database, worker: false, env: { CREATE_USER_RATE_LIMIT: '10000000' } });
  let importMs = 0;
  let uploadMs = 0;
  let validatedMs = 0;
  let peakKb = 0;
  let rssBeforeKb = 0;
  let job: Record<string, unknown> = {};
  try {
    const slug = `bench-import-${Date.now().toString(36)}`;
    const res = await fetch(`${server.url}/api/admin/surveys`, {
      method: 'POST',
      headers: { ...server.adminHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ slug, name: 'Import bench' }),
    });
    if (res.status !== 201) throw new Error(`survey: ${res.status}`);
    const pid = server.child.pid!;
    rssBeforeKb = procKb(pid, 'VmRSS');
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
    const started = performance.now();
    const up = await fetch(`${server.url}/api/admin/surveys/${slug}/respondents/import`, {
      method: 'POST',
      headers: { ...server.adminHeaders, 'content-type': 'text/csv' },
      body: csv,
    });
    if (up.status !== 202) throw new Error(`import: ${up.status} ${await up.text()}`);
    uploadMs = performance.now() - started;
    const { jobId } = (await up.json()) as { jobId: string };
    for (;;) {
      job = (await (await fetch(`${server.url}/api/admin/jobs/${jobId}`, { headers: server.adminHeaders })).json()) as Record<string, unknown>;
      if (job.state === 'succeeded' || job.state === 'failed') break;
      if (job.phase === 'writing' && !validatedMs) validatedMs = performance.now() - started;
      await new Promise((r) => setTimeout(r, 50));
    }
    importMs = performance.now() - started;
    peakKb = procKb(pid, 'VmHWM');
    if (job.state !== 'succeeded' || (job.result as { created?: number }).created !== count) throw new Error(`import ended ${job.state}: ${JSON.stringify(job.errors).slice(0, 300)}`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rawMs = await rawInsert(opts.database, data);
  const db = opts.database;
  const summary: SummaryRow[] = [
    { benchmark: 'import', database: db, figure: `${count} rows: import time s (validate + write + events)`, value: Math.round(importMs) / 1000, baseline: 'raw multi-row INSERT s', baselineValue: Math.round(rawMs) / 1000, ratio: ratio(importMs, rawMs) },
    { benchmark: 'import', database: db, figure: 'server peak RSS during import MB', value: Math.round(peakKb / 1024), baseline: 'server RSS before the import MB', baselineValue: Math.round(rssBeforeKb / 1024), ratio: ratio(peakKb, rssBeforeKb) },
  ];
  return {
    summary, rows: count, csvBytes: csv.length, importMs: Math.round(importMs),
    phasesMs: { upload: Math.round(uploadMs), uploadAndValidation: Math.round(validatedMs), writing: validatedMs ? Math.round(importMs - validatedMs) : null }, rawInsertMs: Math.round(rawMs), ratio: ratio(importMs, rawMs), peakRssMb: Math.round(peakKb / 1024), rssBeforeMb: Math.round(rssBeforeKb / 1024), job };
}

if (process.argv[1]?.endsWith('import.ts')) console.log(JSON.stringify(await run(cliOptions()), null, 2));
