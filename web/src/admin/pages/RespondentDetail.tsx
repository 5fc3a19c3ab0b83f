/** One respondent: edit contact, labels and redirect URL; copy or rotate the auth URL; delete. */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { ReadOnlyNote, useSession } from '../session.tsx';
import { LABELS, RESPONDENT_STATUSES, type Respondent } from '../types.ts';
import { CopyButton, ErrorMessage, Field, Loading, formatDate, useAction, useLoad } from '../ui.tsx';

const EDITABLE = ['name', 'email', 'phone', 'redirectUrl', ...LABELS] as const;
type Editable = (typeof EDITABLE)[number];
const LABEL_TEXT: Record<string, string> = { name: 'Name', email: 'Email', phone: 'Phone', redirectUrl: 'Redirect URL' };

function toForm(r: Respondent): Record<Editable, string> & { status: string } {
  const out = { status: r.status } as Record<Editable, string> & { status: string };
  for (const k of EDITABLE) out[k] = r[k] ?? '';
  return out;
}

export function RespondentDetail({ slug, username }: { slug: string; username: string }) {
  const { can } = useSession();
  const admin = can('admin');
  const path = `/api/admin/surveys/${encodeURIComponent(slug)}/respondents/${encodeURIComponent(username)}`;
  const loaded = useLoad(() => api<Respondent>('GET', path), [path]);
  const [form, setForm] = useState<ReturnType<typeof toForm> | null>(null);
  const save = useAction();
  const token = useAction();
  const remove = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const r = loaded.data;
  const current = form ?? (r ? toForm(r) : null);
  const listPath = `/surveys/${encodeURIComponent(slug)}/respondents`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!r || !current) return;
    const before = toForm(r);
    const body: Record<string, string | null> = {};
    for (const k of [...EDITABLE, 'status'] as const) if (current[k] !== before[k]) body[k] = k !== 'status' && current[k].trim() === '' ? null : current[k];
    const updated = await save.run(() => api<Respondent>('PATCH', path, body));
    if (updated) {
      loaded.setData(updated);
      setForm(null);
      setNotice('Saved.');
    }
  };
  const rotate = async () => {
    if (!window.confirm('Rotate the auth token? The current auth URL (and sessions made with it) stop working at once.')) return;
    const updated = await token.run(() => api<Respondent>('POST', `${path}/auth-token`));
    if (updated) {
      loaded.setData(updated);
      setNotice('The auth token was rotated: send the new auth URL.');
    }
  };
  const del = async () => {
    if (!window.confirm(`Delete ${username} and their records?`)) return;
    const ok = await remove.run(async () => {
      await api('DELETE', path);
      return true;
    });
    if (ok) navigate(listPath);
  };

  return (
    <>
      <p className="crumbs">
        <Link to={listPath}>Respondents</Link> /
      </p>
      <h2>{username}</h2>
      <ReadOnlyNote need="admin" />
      <ErrorMessage error={loaded.error} />
      {loaded.loading && !r && <Loading label="Loading the respondent…" />}
      {notice && <p className="alert alert-success" role="status">{notice}</p>}
      {r && current && (
        <>
          <p className="muted small">
            Status {r.status} · created {formatDate(r.createdAt)} via {r.createdVia} · updated {formatDate(r.updatedAt)}
            {r.test && ' · test respondent'}
            {r.entrySurvey && r.entrySurvey !== slug && <> · moved here from <Link to={`/surveys/${encodeURIComponent(r.entrySurvey)}/settings`}>{r.entrySurvey}</Link> (replacement survey)</>}
          </p>
          {admin && r.authUrl && (
            <section className="card section" aria-labelledby="auth-title">
              <h3 id="auth-title">Auth URL</h3>
              <div className="copy-row">
                <code className="wrap">{r.authUrl}</code>
                <CopyButton text={r.authUrl} label="Copy auth URL" />
              </div>
              {r.shortAuthUrl && (
                <div className="copy-row">
                  <code className="wrap">{r.shortAuthUrl}</code>
                  <CopyButton text={r.shortAuthUrl} label="Copy short URL" />
                </div>
              )}
              <ErrorMessage error={token.error} />
              <div className="actions">
                <button type="button" onClick={rotate} disabled={token.busy}>
                  {token.busy ? 'Rotating…' : 'Rotate auth token'}
                </button>
              </div>
            </section>
          )}
          <form onSubmit={submit} className="card" noValidate>
            <fieldset disabled={!admin} className="plain">
              <div className="grid-form">
                {(['name', 'email', 'phone', 'redirectUrl'] as const).map((k) => (
                  <Field key={k} label={LABEL_TEXT[k]} path={k} fields={save.fields}>
                    {(p) => <input {...p} value={current[k]} onChange={(e) => setForm({ ...current, [k]: e.target.value })} />}
                  </Field>
                ))}
                <Field label="Status" path="status" fields={save.fields}>
                  {(p) => (
                    <select {...p} value={current.status} onChange={(e) => setForm({ ...current, status: e.target.value })}>
                      {RESPONDENT_STATUSES.map((s) => (
                        <option key={s} value={s}>{s}</option>
                      ))}
                    </select>
                  )}
                </Field>
              </div>
              <h3>Labels</h3>
              <div className="grid-form">
                {LABELS.map((k) => (
                  <Field key={k} label={k} path={k} fields={save.fields}>
                    {(p) => <input {...p} value={current[k]} onChange={(e) => setForm({ ...current, [k]: e.target.value })} />}
                  </Field>
                ))}
              </div>
              {Object.keys(r.customFields).length > 0 && (
                <>
                  <h3>Custom fields</h3>
                  <dl className="pairs">
                    {Object.entries(r.customFields).map(([k, v]) => (
                      <div key={k}>
                        <dt>{k}</dt>
                        <dd>{v}</dd>
                      </div>
                    ))}
                  </dl>
                </>
              )}
              <ErrorMessage error={save.error} />
              <div className="actions">
                <button type="submit" className="btn-primary" disabled={save.busy || form === null}>
                  {save.busy ? 'Saving…' : 'Save changes'}
                </button>
                <button type="button" className="btn-danger" onClick={del} disabled={remove.busy}>
                  {remove.busy ? 'Deleting…' : 'Delete respondent'}
                </button>
              </div>
              <ErrorMessage error={remove.error} />
            </fieldset>
          </form>
        </>
      )}
    </>
  );
}
