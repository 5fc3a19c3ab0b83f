/**
 * CSV upload as a job: the file goes up, then the job is polled for a progress bar; a failed
 * import lists every row error (line, column, message) — nothing was written in that case.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, download, upload } from '../api.ts';
import type { Job } from '../types.ts';
import { ErrorMessage, Field, useAction } from '../ui.tsx';

const POLL_MS = 400;

export function CsvImport({ slug, onImported }: { slug: string; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [onExisting, setOnExisting] = useState('error');
  const [job, setJob] = useState<Job | null>(null);
  const action = useAction();
  const exporting = useAction();
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const poll = async (id: string): Promise<Job> => {
    for (;;) {
      const j = await api<Job>('GET', `/api/admin/jobs/${encodeURIComponent(id)}`);
      if (!alive.current) return j;
      setJob(j);
      if (j.state === 'succeeded' || j.state === 'failed') return j;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setJob(null);
    const done = await action.run(async () => {
      const started = await upload<{ jobId?: string } & Partial<Job>>(`/api/admin/surveys/${encodeURIComponent(slug)}/respondents/import?onExisting=${onExisting}`, file, 'text/csv');
      setJob({ id: started.jobId ?? '', kind: 'import', state: 'queued', phase: null, processed: 0, total: null, errors: [], result: null });
      return started.jobId ? poll(started.jobId) : (started as Job);
    });
    if (done?.state === 'succeeded') onImported();
  };

  const running = job !== null && (job.state === 'queued' || job.state === 'running');
  const r = job?.result as { created?: number; updated?: number; unchanged?: number; skipped?: number; errorCount?: number; errorsTruncated?: boolean } | null;

  return (
    <section className="card section" aria-labelledby="import-title">
      <h2 id="import-title">Import and export</h2>
      <form onSubmit={submit} className="grid-form">
        <Field label="CSV file" hint="Header row; columns username (required), password, name, email, phone, redirect url, l1–l10; others become custom fields.">
          {(p) => <input {...p} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
        </Field>
        <Field label="When a username exists">
          {(p) => (
            <select {...p} value={onExisting} onChange={(e) => setOnExisting(e.target.value)}>
              <option value="error">Fail the import</option>
              <option value="skip">Skip the row</option>
              <option value="update">Update the respondent</option>
            </select>
          )}
        </Field>
        <div className="actions align-end">
          <button type="submit" className="btn-primary" disabled={!file || action.busy}>
            {action.busy ? 'Importing…' : 'Upload CSV'}
          </button>
        </div>
      </form>
      <ErrorMessage error={action.error} />
      {job && (
        <div className="job" aria-live="polite">
          {running && (
            <>
              <label htmlFor="import-progress">
                {job.phase === 'writing' ? 'Writing' : job.phase === 'validating' ? 'Checking' : 'Starting'}: {job.processed}
                {job.total !== null ? ` of ${job.total}` : ''} rows
              </label>
              <progress id="import-progress" className="progress" value={job.total ? job.processed : undefined} max={job.total ?? undefined} />
            </>
          )}
          {job.state === 'succeeded' && (
            <p className="alert alert-success" role="status">
              Imported: {r?.created ?? 0} created, {r?.updated ?? 0} updated, {r?.unchanged ?? 0} unchanged, {r?.skipped ?? 0} skipped.
            </p>
          )}
          {job.state === 'failed' && (
            <div className="alert alert-error" role="alert">
              <p>
                The import failed and nothing was written.
                {r?.errorCount !== undefined && ` ${r.errorCount} error${r.errorCount === 1 ? '' : 's'}`}
                {r?.errorsTruncated ? ' (the first ones are listed).' : '.'}
              </p>
            </div>
          )}
          {job.errors.length > 0 && (
            <div className="table-wrap">
              <table className="table" aria-label="Row errors">
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">Column</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {job.errors.map((e, i) => (
                    <tr key={i}>
                      <td data-label="Line">{e.line ?? '—'}</td>
                      <td data-label="Column">{e.column ?? '—'}</td>
                      <td data-label="Problem">{e.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
      <div className="actions">
        <button type="button" disabled={exporting.busy} onClick={() => void exporting.run(() => download(`/api/admin/surveys/${encodeURIComponent(slug)}/respondents/export.csv`, `${slug}-respondents.csv`))}>
          {exporting.busy ? 'Preparing…' : 'Download auth URLs (CSV)'}
        </button>
      </div>
      <ErrorMessage error={exporting.error} />
    </section>
  );
}
