/**
 * `surveybridge import respondents FILE --survey S [--on-existing error|skip|update]` and
 * `surveybridge export auth-urls --survey S [--output FILE]`.
 *
 * They talk to a running server over HTTP with an API token, not to the database: the embedded
 * database can be opened by one process only, and the server already holds it.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { UsageError, parseCommandArgs } from './usage.ts';

const CONNECTION_HELP = `Connection: --url URL (or SURVEYBRIDGE_URL; default PUBLIC_URL, else http://127.0.0.1:3000)
            --token T (or SURVEYBRIDGE_TOKEN): an API token from POST /api/admin/tokens`;

export const IMPORT_HELP = `Usage: surveybridge import respondents FILE --survey S [--on-existing error|skip|update] [--url URL] [--token T]

Uploads a CSV of respondents to the survey (all or nothing), waits for the import job and shows
its progress (a bar in a terminal). Exits 1 listing the row errors (line, column, message) when
any row is invalid; nothing is written then.
${CONNECTION_HELP}`;

export const EXPORT_HELP = `Usage: surveybridge export auth-urls --survey S [--output FILE] [--url URL] [--token T]

Writes every respondent of the survey with their auth URLs as CSV (user_id,username,name,status,
auth_token,auth_url,short_auth_url,redirect_url,l1..l10) to stdout or FILE.
${CONNECTION_HELP}`;

const connectionOptions = { url: { type: 'string' }, token: { type: 'string' } } as const;

interface Api {
  base: string;
  headers: Record<string, string>;
}

function connection(values: Record<string, string | boolean | undefined>): Api {
  const base = ((values.url as string | undefined) || process.env.SURVEYBRIDGE_URL || process.env.PUBLIC_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(base)) throw new UsageError('--url must be an http(s) URL');
  const token = (values.token as string | undefined) || process.env.SURVEYBRIDGE_TOKEN;
  if (!token) throw new UsageError('--token or SURVEYBRIDGE_TOKEN is required (an API token: POST /api/admin/tokens)');
  return { base, headers: { authorization: `Bearer ${token}` } };
}

function requireSurvey(values: Record<string, string | boolean | undefined>): string {
  const survey = values.survey as string | undefined;
  if (!survey) throw new UsageError('--survey is required');
  return survey;
}

/** fetch, with "cannot reach" instead of undici's bare "fetch failed". */
async function call(api: Api, path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
  try {
    return await fetch(`${api.base}${path}`, { ...init, headers: { ...api.headers, ...(init.headers as Record<string, string> | undefined) } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${api.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
}

/** The API's error message (`{"error":{"code","message"}}`), or the status line. */
async function failure(res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new Error(`${res.status} ${body.error.code ?? ''}: ${body.error.message}`.replace(' :', ':'));
  } catch {
    /* not JSON */
  }
  return new Error(`${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

interface JobView {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  phase: string | null;
  processed: number;
  total: number | null;
  errors: Array<{ line: number | null; column: string | null; code: string; message: string }>;
  result: Record<string, unknown> | null;
}

/** Progress on stderr: a redrawn bar in a terminal, a line per phase / few seconds otherwise. */
export function progressReporter(stream: NodeJS.WriteStream) {
  const tty = Boolean(stream.isTTY);
  let lastLine = '';
  let lastPlainAt = 0;
  let drawn = false;
  return {
    update(job: JobView) {
      const phase = job.phase ?? job.state;
      const total = job.total ?? 0;
      const pct = total > 0 ? Math.min(100, Math.floor((job.processed / total) * 100)) : 0;
      if (tty) {
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${phase} ${job.processed}${total ? `/${total}` : ''} rows\x1b[K`);
        drawn = true;
        return;
      }
      const line = `${phase}: ${job.processed}${total ? `/${total}` : ''} rows`;
      const phaseChanged = !lastLine.startsWith(`${phase}:`);
      if (line !== lastLine && (phaseChanged || Date.now() - lastPlainAt >= 2000)) {
        stream.write(`${line}\n`);
        lastLine = line;
        lastPlainAt = Date.now();
      }
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { survey: { type: 'string' }, 'on-existing': { type: 'string' }, ...connectionOptions });
  if (values.help) {
    process.stdout.write(`${IMPORT_HELP}\n`);
    return 0;
  }
  if (positionals[0] !== 'respondents') throw new UsageError('expected "import respondents FILE"');
  if (positionals.length !== 2) throw new UsageError('expected one FILE: import respondents FILE --survey S');
  const file = positionals[1];
  const survey = requireSurvey(values);
  const onExisting = (values['on-existing'] as string | undefined) ?? 'error';
  if (!['error', 'skip', 'update'].includes(onExisting)) throw new UsageError('--on-existing must be error, skip or update');
  const api = connection(values);

  const size = (await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${err.code ?? err.message}`);
  })).size;
  // Streamed: the file is never held in memory, whatever its size.
  const upload = await call(api, `/api/admin/surveys/${encodeURIComponent(survey)}/respondents/import?onExisting=${onExisting}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', 'content-length': String(size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  });
  if (upload.status !== 202) throw await failure(upload); // 202 {jobId}: we poll, so no ?wait
  const { jobId } = (await upload.json()) as { jobId: string };

  const progress = progressReporter(process.stderr);
  let job: JobView;
  for (;;) {
    const res = await call(api, `/api/admin/jobs/${encodeURIComponent(jobId)}`);
    if (!res.ok) throw await failure(res);
    job = (await res.json()) as JobView;
    progress.update(job);
    if (job.state === 'succeeded' || job.state === 'failed') break;
    await delay(250);
  }
  progress.done();

  const r = job.result ?? {};
  if (job.state === 'failed') {
    const lines = job.errors.map((e) => `line ${e.line ?? '-'}, column ${e.column ?? '-'}: ${e.message} (${e.code})`);
    const count = typeof r.errorCount === 'number' ? r.errorCount : job.errors.length;
    const more = count > job.errors.length ? `\n… and ${count - job.errors.length} more` : '';
    process.stderr.write(`surveybridge: import failed, nothing was written (${count} error${count === 1 ? '' : 's'}):\n${lines.join('\n')}${more}\n`);
    return 1;
  }
  const extra = [
    Array.isArray(r.customFields) && r.customFields.length ? `custom fields: ${r.customFields.join(', ')}` : '',
    Array.isArray(r.ignoredColumns) && r.ignoredColumns.length ? `ignored columns: ${r.ignoredColumns.join(', ')}` : '',
  ].filter(Boolean);
  process.stdout.write(`Imported ${r.total ?? job.processed} rows into ${survey}: ${r.created ?? 0} created, ${r.updated ?? 0} updated, ${r.unchanged ?? 0} unchanged, ${r.skipped ?? 0} skipped.\n${extra.map((l) => `${l}\n`).join('')}`);
  return 0;
}

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { survey: { type: 'string' }, output: { type: 'string', short: 'o' }, ...connectionOptions });
  if (values.help) {
    process.stdout.write(`${EXPORT_HELP}\n`);
    return 0;
  }
  if (positionals[0] !== 'auth-urls' || positionals.length !== 1) throw new UsageError('expected "export auth-urls --survey S"');
  const survey = requireSurvey(values);
  const output = values.output as string | undefined;
  const api = connection(values);
  const res = await call(api, `/api/admin/surveys/${encodeURIComponent(survey)}/respondents/export.csv`);
  if (!res.ok || !res.body) throw await failure(res);
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  if (!output) {
    try {
      await pipeline(body, process.stdout as Writable);
    } catch (err) {
      // `… | head` closing the pipe early is the reader's choice, not a failure.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    }
    return 0;
  }
  // Written beside the target and renamed at the end: a broken download never leaves half a file.
  const partial = `${output}.part`;
  try {
    await pipeline(body, createWriteStream(partial));
    await rename(partial, output);
  } catch (err) {
    await unlink(partial).catch(() => {});
    throw err;
  }
  return 0;
}
