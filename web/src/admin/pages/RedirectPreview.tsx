/** Shows the URL a respondent would be sent to for an outcome, computed by the server from the saved settings. */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { OUTCOMES, OUTCOME_LABELS } from '../types.ts';
import { CopyButton, ErrorMessage, Field, useAction } from '../ui.tsx';

interface Preview {
  url: string | null;
  target: string;
  statusCode: number | null;
  reward: string | null;
  rewardId: string | null;
  respondentFound: boolean;
}

export function RedirectPreview({ slug }: { slug: string }) {
  const [outcome, setOutcome] = useState<string>('completed');
  const [username, setUsername] = useState('');
  const [result, setResult] = useState<Preview | null>(null);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await action.run(() => api<Preview>('POST', `/api/admin/surveys/${encodeURIComponent(slug)}/redirects/preview`, { outcome, username: username || 'sample-user' }));
    setResult(r ?? null);
  };
  return (
    <section className="card section" aria-labelledby="preview-title">
      <h2 id="preview-title">Redirect preview</h2>
      <p className="hint">Uses the saved settings: save your changes first.</p>
      <form onSubmit={submit} className="grid-preview">
        <Field label="Outcome" path="outcome" fields={action.fields}>
          {(p) => (
            <select {...p} value={outcome} onChange={(e) => setOutcome(e.target.value)}>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>{OUTCOME_LABELS[o]}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Respondent (username)" path="username" fields={action.fields}>
          {(p) => <input {...p} value={username} placeholder="sample-user" onChange={(e) => setUsername(e.target.value)} />}
        </Field>
        <div className="actions align-end">
          <button type="submit" disabled={action.busy}>{action.busy ? 'Computing…' : 'Preview'}</button>
        </div>
      </form>
      <ErrorMessage error={action.error} />
      {result && (
        <div className="preview-result" role="status">
          {result.url ? (
            <div className="copy-row">
              <code className="wrap">{result.url}</code>
              <CopyButton text={result.url} />
            </div>
          ) : (
            <p>The built-in completion page (no URL set for this outcome).</p>
          )}
          <p className="small muted">
            Target: {result.target}
            {result.statusCode !== null && ` · status ${result.statusCode}`}
            {result.reward !== null && ` · reward ${result.reward}`}
            {!result.respondentFound && ' · unknown respondent: a stand-in was used'}
          </p>
        </div>
      )}
    </section>
  );
}
