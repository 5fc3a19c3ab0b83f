/**
 * CSV import of respondents, all or nothing, as a job.
 *
 * 1. The upload is spooled to a temporary file (memory stays flat whatever its size).
 * 2. Validation pass, streaming: every row is checked (username missing, too long or
 *    repeated in the file or, with onExisting=error, already in the survey; bad email, URL,
 *    phone, password; over-long values; wrong column count; malformed quoting). Errors are
 *    listed as {line, column, code, message} with file line numbers (the first 1,000).
 * 3. Only if no row failed: write pass, streaming again, in ONE transaction: batches of
 *    multi-row INSERT (and UPDATE for onExisting=update) with their respondent.created /
 *    respondent.updated events. A crash before COMMIT leaves nothing behind.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import { rowsOf, type Database, type Db, type Tx } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { hashPassword, type SecretBox } from '../lib/crypto.ts';
import { readCsv, unneutralise } from '../lib/csv.ts';
import { deliveriesChannel, emitEvents, type BulkEventInput } from '../events/outbox.ts';
import type { JobHandle, JobsService, JobView } from '../jobs/service.ts';
import { surveyRef, type SurveyRow, type SurveysService } from '../surveys/service.ts';
import { checkUsername } from './fields.ts';
import {
  COLUMN_OF, SeenUsernames, parseHeader, rowFromJson, rowsOfFile, toRow,
  type Field, type Header, type ImportError, type OnExisting,
} from './csvRows.ts';
import { eventData, newAuthToken, respondentRef, type RespondentRow } from './service.ts';

export type { ImportError, ImportRow, OnExisting } from './csvRows.ts';

export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;
export const MAX_LISTED_ERRORS = 1000;
const BATCH = 1000;

export interface ImportResult {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  onExisting: OnExisting;
  customFields: string[];
  ignoredColumns: string[];
}

export class RespondentImporter {
  private readonly aborts = new Set<AbortController>();

  constructor(
    private readonly db: Db,
    private readonly database: Pick<Database, 'schemaName' | 'kind'>,
    private readonly box: SecretBox,
    private readonly surveys: SurveysService,
    private readonly jobs: JobsService,
    private readonly log?: { error(obj: object, msg: string): void },
  ) {}

  /** Copies an upload to a temporary file; 413 over MAX_IMPORT_BYTES. Returns the file's path. */
  async spool(stream: Readable, maxBytes = MAX_IMPORT_BYTES): Promise<{ path: string; bytes: number; cleanup: () => Promise<void> }> {
    const dir = await mkdtemp(join(tmpdir(), 'sb-import-'));
    const path = join(dir, 'upload.csv');
    const cleanup = () => rm(dir, { recursive: true, force: true });
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > maxBytes) cb(new AppError('PAYLOAD_TOO_LARGE', `the file is over ${maxBytes} bytes`));
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(stream, counter, createWriteStream(path));
    } catch (err) {
      await cleanup();
      if (err instanceof AppError) throw err;
      throw new AppError('BAD_REQUEST', 'the upload was interrupted');
    }
    if (bytes === 0) {
      await cleanup();
      throw new AppError('VALIDATION_FAILED', 'the file is empty', { fields: [{ path: '/body', message: 'is empty' }] });
    }
    return { path, bytes, cleanup };
  }

  /**
   * Starts an import job for a spooled file (which it deletes when done). The job runs in
   * the background; the handle's `done` settles with its final state.
   */
  async start(accountId: number, slug: string, file: { path: string; cleanup: () => Promise<void> }, onExisting: OnExisting): Promise<JobHandle> {
    let survey: SurveyRow;
    try {
      survey = await this.surveys.get(accountId, slug);
    } catch (err) {
      await file.cleanup();
      throw err;
    }
    const job = await this.jobs.start(accountId, 'respondents.import');
    const abort = new AbortController();
    this.aborts.add(abort);
    void this.run(job, survey, file.path, onExisting, abort.signal)
      .catch(async (err) => {
        let error: ImportError;
        if (abort.signal.aborted) {
          error = { line: null, column: null, code: 'interrupted', message: 'the server stopped before the import finished; nothing was written' };
        } else if (isUniqueViolation(err)) {
          error = { line: null, column: 'username', code: 'username_exists', message: 'a username of the file was created by someone else while the import ran; nothing was written (import again)' };
        } else {
          this.log?.error({ err }, 'import failed');
          error = { line: null, column: null, code: 'internal_error', message: 'the import failed unexpectedly; nothing was written' };
        }
        await job.finish('failed', { interrupted: abort.signal.aborted }, [error]).catch(() => {});
      })
      .finally(() => {
        this.aborts.delete(abort);
        void file.cleanup();
      });
    return job;
  }

  /** Graceful shutdown: running imports roll back and are marked failed. */
  async stopAll(): Promise<void> {
    const running = this.jobs.running();
    for (const a of this.aborts) a.abort();
    // Each running import rolls back at its next batch; do not wait forever on one that cannot finish.
    await Promise.race([Promise.allSettled(running.map((j) => j.done)), new Promise((r) => setTimeout(r, 15_000).unref())]);
  }

  private async run(job: JobHandle, survey: SurveyRow, path: string, onExisting: OnExisting, signal: AbortSignal): Promise<JobView> {
    job.progress({ phase: 'validating', processed: 0, total: null });
    const v = await this.validate(survey, path, onExisting, job, signal);
    const base = { total: v.total, onExisting, customFields: v.header?.customFields ?? [], ignoredColumns: v.header?.ignored ?? [] };
    if (v.errorCount > 0 || !v.header) {
      v.errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
      return job.finish('failed', { ...base, errorCount: v.errorCount, errorsTruncated: v.errorCount > v.errors.length, created: 0, updated: 0, unchanged: 0, skipped: 0 }, v.errors);
    }
    job.progress({ phase: 'writing', processed: 0, total: v.total });
    const counts = await this.write(survey, path, v.header, onExisting, v.total, job, signal);
    return job.finish('succeeded', { ...base, ...counts });
  }

  private async validate(survey: SurveyRow, path: string, onExisting: OnExisting, job: JobHandle, signal: AbortSignal) {
    const errors: ImportError[] = [];
    let errorCount = 0;
    const report = (e: ImportError) => {
      errorCount++;
      if (errors.length < MAX_LISTED_ERRORS) errors.push(e);
    };
    let header: Header | null = null;
    let total = 0;
    const seen = new SeenUsernames();
    let pending: { username: string; line: number }[] = [];
    const checkExisting = async () => {
      if (pending.length === 0) return;
      const names = pending.map((p) => p.username);
      const found = rowsOf<{ username: string }>(await this.db.execute(
        sql`SELECT username FROM respondents WHERE survey_id = ${survey.id} AND username IN (SELECT jsonb_array_elements_text(${JSON.stringify(names)}::jsonb))`));
      if (found.length) {
        const taken = new Set(found.map((f) => f.username));
        for (const p of pending) {
          if (taken.has(p.username)) {
            report({ line: p.line, column: 'username', code: 'username_exists', message: `username "${p.username}" already exists in this survey (onExisting=skip or update to import anyway)` });
          }
        }
      }
      pending = [];
    };

    for await (const batch of readCsv(createReadStream(path, { highWaterMark: 256 * 1024 }))) {
      if (signal.aborted) throw new Error('aborted');
      for (const rec of batch) {
        if (rec.error) {
          if (!header || rec.error.code === 'invalid_encoding') {
            // A header that cannot be read, or bytes that are not text: nothing after it can be checked.
            report({ line: rec.line, column: null, code: rec.error.code, message: rec.error.message });
            return { errors, errorCount, header: null, total };
          }
          if (header) total++;
          report({ line: rec.line, column: null, code: rec.error.code, message: rec.error.message });
          continue;
        }
        if (!header) {
          const h = parseHeader(rec.fields);
          h.errors.forEach(report);
          header = h.header;
          if (!header.present.has('username')) return { errors, errorCount, header, total };
          continue;
        }
        total++;
        const { row, errors: rowErrors } = toRow(header, rec.fields, rec.line, survey);
        rowErrors.forEach(report);
        const username = row?.username ?? rowUsername(header, rec.fields);
        if (username) {
          const earlier = seen.add(username, rec.line);
          if (earlier) {
            report({ line: rec.line, column: 'username', code: 'duplicate_username', message: `username "${username}" is also on line ${earlier}` });
          } else if (onExisting === 'error') {
            pending.push({ username, line: rec.line });
            if (pending.length >= BATCH) await checkExisting();
          }
        }
      }
      job.progress({ processed: total });
    }
    await checkExisting();
    if (!header) report({ line: 1, column: null, code: 'missing_header', message: 'the file has no header row' });
    else if (total === 0) report({ line: 2, column: null, code: 'no_rows', message: 'the file has a header row but no respondents' });
    return { errors, errorCount, header, total };
  }

  private async write(survey: SurveyRow, path: string, header: Header, onExisting: OnExisting, total: number, job: JobHandle, signal: AbortSignal) {
    const counts = { created: 0, updated: 0, unchanged: 0, skipped: 0 };
    const ref = surveyRef(survey);
    const present = [...header.present].filter((f): f is Exclude<Field, 'username'> => f !== 'username');
    const hasCustom = header.customFields.length > 0;
    await this.db.transaction(async (tx) => {
      let processed = 0;
      for await (const rows of rowsOfFile(path, survey)) {
        for (let i = 0; i < rows.length; i += BATCH) {
          if (signal.aborted) throw new Error('aborted');
          const chunk = rows.slice(i, i + BATCH);
          const events: BulkEventInput[] = [];
          const payload = await Promise.all(chunk.map(async (r) => {
            const t = newAuthToken(this.box);
            const rec: Record<string, unknown> = {
              username: r.username,
              custom_fields: r.custom,
              auth_token_sealed: t.sealed,
              auth_token_hash: t.hash,
              test: r.test === true,
            };
            for (const f of present) {
              const v = r.values[f] ?? null;
              rec[COLUMN_OF[f]] = f === 'password' ? (v === null ? null : await hashPassword(v)) : v;
            }
            return rec;
          }));
          const json = JSON.stringify(payload);
          if (onExisting === 'update') {
            const updated = await this.updateBatch(tx, survey.id, json, present, hasCustom);
            for (const { row, old } of updated) {
              const changed = changedFields(old, row, present, hasCustom);
              if (changed.length === 0) {
                counts.unchanged++;
                continue;
              }
              counts.updated++;
              events.push({ type: 'respondent.updated', survey: ref, respondent: respondentRef(row), data: { changed, respondent: eventData(row) } });
            }
          }
          await emitEvents(tx, this.database.schemaName, events);
          counts.created += await this.insertBatch(tx, survey, json, onExisting !== 'error');
          processed += chunk.length;
          job.progress({ processed, total });
        }
      }
      if (onExisting === 'skip') counts.skipped = processed - counts.created;
    });
    return counts;
  }

  /**
   * Inserts a batch and, in the same statement, its respondent.created events (the payload
   * built in SQL, field for field what `emitEvent` stores for one respondent: see
   * `eventData`) and their deliveries. Nothing travels back but the counts.
   */
  private async insertBatch(tx: Tx, survey: SurveyRow, json: string, onConflictNothing: boolean): Promise<number> {
    const occurredAt = new Date().toISOString();
    const surveyJson = JSON.stringify({ id: survey.id, slug: survey.slug, name: survey.name });
    const res = rowsOf<{ created: number; deliveries: number }>(await tx.execute(sql`
      WITH x AS (
        SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS x(username text, name text, email text, phone text, redirect_url text,
               l1 text, l2 text, l3 text, l4 text, l5 text, l6 text, l7 text, l8 text, l9 text, l10 text,
               custom_fields jsonb, password_hash text, auth_token_sealed text, auth_token_hash text, test boolean)
      ), ins AS (
        INSERT INTO respondents (survey_id, username, name, email, phone, redirect_url, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10,
                                 custom_fields, password_hash, auth_token_sealed, auth_token_hash, created_via, test)
        SELECT ${survey.id}, x.username, x.name, x.email, x.phone, x.redirect_url, x.l1, x.l2, x.l3, x.l4, x.l5, x.l6, x.l7, x.l8, x.l9, x.l10,
               jsonb_strip_nulls(coalesce(x.custom_fields, '{}'::jsonb)), x.password_hash, x.auth_token_sealed, x.auth_token_hash, 'csv', coalesce(x.test, false)
        FROM x
        ${onConflictNothing ? sql`ON CONFLICT (survey_id, username) DO NOTHING` : sql``}
        RETURNING id, username, name, email, phone, redirect_url, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, custom_fields, status, created_via, test
      ), e AS MATERIALIZED (
        SELECT gen_random_uuid() AS eid, ins.* FROM ins
      ), ev AS (
        INSERT INTO events (id, account_id, survey_id, respondent_id, type, payload, test, occurred_at)
        SELECT e.eid, ${survey.accountId}, ${survey.id}, e.id, 'respondent.created',
               jsonb_build_object(
                 'id', e.eid, 'type', 'respondent.created', 'occurredAt', ${occurredAt}::text, 'survey', ${surveyJson}::jsonb,
                 'respondent', jsonb_build_object('userId', e.id, 'username', e.username),
                 'data', jsonb_build_object(
                   'userId', e.id, 'username', e.username, 'name', e.name, 'email', e.email, 'phone', e.phone, 'redirectUrl', e.redirect_url,
                   'l1', e.l1, 'l2', e.l2, 'l3', e.l3, 'l4', e.l4, 'l5', e.l5, 'l6', e.l6, 'l7', e.l7, 'l8', e.l8, 'l9', e.l9, 'l10', e.l10,
                   'customFields', e.custom_fields, 'status', e.status, 'createdVia', e.created_via))
                 || CASE WHEN e.test THEN '{"test": true}'::jsonb ELSE '{}'::jsonb END,
               e.test, ${occurredAt}::timestamptz
        FROM e ORDER BY e.id
        RETURNING id, seq
      ), d AS (
        INSERT INTO deliveries (event_id, event_seq, endpoint_id)
        SELECT ev.id, ev.seq, w.id FROM ev CROSS JOIN webhook_endpoints w
        WHERE w.survey_id = ${survey.id} AND w.enabled AND (w.events @> '["*"]'::jsonb OR w.events @> '["respondent.created"]'::jsonb)
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ev)::int AS created, (SELECT count(*) FROM d)::int AS deliveries`));
    if (res[0].deliveries > 0) await tx.execute(sql`SELECT pg_notify(${deliveriesChannel(this.database.schemaName)}, '')`);
    return res[0].created;
  }

  /** onExisting=update: the columns present in the file overwrite (empty cell clears; empty password keeps). */
  private async updateBatch(tx: Tx, surveyId: number, json: string, present: Exclude<Field, 'username'>[], hasCustom: boolean) {
    const sets = present.map((f) =>
      f === 'password' ? sql`password_hash = coalesce(x.password_hash, o.password_hash)` : sql`${sql.identifier(COLUMN_OF[f])} = x.${sql.identifier(COLUMN_OF[f])}`);
    if (hasCustom) sets.push(sql`custom_fields = jsonb_strip_nulls(o.custom_fields || coalesce(x.custom_fields, '{}'::jsonb))`);
    sets.push(sql`updated_at = now()`);
    const res = await tx.execute(sql`
      UPDATE respondents AS t SET ${sql.join(sets, sql`, `)}
      FROM jsonb_to_recordset(${json}::jsonb) AS x(username text, name text, email text, phone text, redirect_url text,
             l1 text, l2 text, l3 text, l4 text, l5 text, l6 text, l7 text, l8 text, l9 text, l10 text,
             custom_fields jsonb, password_hash text),
           respondents AS o
      WHERE t.survey_id = ${surveyId} AND t.username = x.username AND o.id = t.id
      RETURNING to_jsonb(t.*) AS r, to_jsonb(o.*) AS old`);
    const parse = (v: Record<string, unknown> | string) => rowFromJson(typeof v === 'string' ? JSON.parse(v) : v);
    return rowsOf<{ r: Record<string, unknown> | string; old: Record<string, unknown> | string }>(res).map((x) => ({ row: parse(x.r), old: parse(x.old) }));
  }
}

function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.code === '23505') return true;
  }
  return false;
}

function rowUsername(header: Header, fields: string[]): string | null {
  const i = header.columns.findIndex((c) => c?.kind === 'field' && c.field === 'username');
  const v = i >= 0 && fields.length === header.columns.length ? unneutralise(fields[i]) : '';
  return v && !checkUsername(v) ? v : null;
}

function changedFields(old: RespondentRow, row: RespondentRow, present: Exclude<Field, 'username'>[], hasCustom: boolean): string[] {
  const changed: string[] = [];
  for (const f of present) {
    if (f === 'password') {
      if (old.passwordHash !== row.passwordHash) changed.push('password');
    } else if (old[f] !== row[f]) changed.push(f);
  }
  if (hasCustom && JSON.stringify(old.customFields) !== JSON.stringify(row.customFields)) changed.push('customFields');
  return changed;
}
