/** A survey's respondents: search and filter, add one, copy auth URLs, import and export CSV. */
import { useState, type FormEvent } from 'react';
import { api, type Page } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { LABELS, RESPONDENT_STATUSES, type Respondent } from '../types.ts';
import { CopyButton, ErrorMessage, Field, Loading, formatDate, useAction, useLoad } from '../ui.tsx';
import type { SurveyTabProps } from './SurveyPage.tsx';
import { CsvImport } from './CsvImport.tsx';

interface Filters {
  search: string;
  status: string;
  label: string;
  labelValue: string;
}

function query(f: Filters, cursor?: string | null): string {
  const q = new URLSearchParams({ limit: '50' });
  if (f.search.trim()) q.set('search', f.search.trim());
  if (f.status) q.set('status', f.status);
  if (f.label && f.labelValue) q.set(f.label, f.labelValue);
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

const labelsOf = (r: Respondent) => LABELS.filter((l) => r[l]).map((l) => `${l}=${r[l]}`).join(', ');

function AddRespondent({ slug, onAdded }: { slug: string; onAdded: (r: Respondent) => void }) {
  const [form, setForm] = useState({ username: '', name: '', email: '', redirectUrl: '' });
  const action = useAction();
  const set = (k: keyof typeof form, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, string> = { username: form.username };
    for (const k of ['name', 'email', 'redirectUrl'] as const) if (form[k].trim()) body[k] = form[k].trim();
    const r = await action.run(() => api<Respondent>('POST', `/api/admin/surveys/${encodeURIComponent(slug)}/respondents`, body));
    if (r) {
      setForm({ username: '', name: '', email: '', redirectUrl: '' });
      onAdded(r);
    }
  };
  return (
    <details className="card">
      <summary>Add a respondent</summary>
      <form onSubmit={submit} className="grid-form" noValidate>
        <Field label="Username" path="username" fields={action.fields} hint="The third party's id for this person.">
          {(p) => <input {...p} required value={form.username} onChange={(e) => set('username', e.target.value)} />}
        </Field>
        <Field label="Name" path="name" fields={action.fields}>
          {(p) => <input {...p} value={form.name} onChange={(e) => set('name', e.target.value)} />}
        </Field>
        <Field label="Email" path="email" fields={action.fields}>
          {(p) => <input {...p} type="email" value={form.email} onChange={(e) => set('email', e.target.value)} />}
        </Field>
        <Field label="Redirect URL" path="redirectUrl" fields={action.fields}>
          {(p) => <input {...p} type="url" value={form.redirectUrl} onChange={(e) => set('redirectUrl', e.target.value)} />}
        </Field>
        <div className="actions align-end">
          <button type="submit" className="btn-primary" disabled={action.busy}>
            {action.busy ? 'Adding…' : 'Add respondent'}
          </button>
        </div>
      </form>
      <ErrorMessage error={action.error} />
    </details>
  );
}

export function Respondents({ survey }: SurveyTabProps) {
  const { can } = useSession();
  const admin = can('admin');
  const slug = survey.slug;
  const base = `/api/admin/surveys/${encodeURIComponent(slug)}/respondents`;
  const [typed, setTyped] = useState<Filters>({ search: '', status: '', label: 'l1', labelValue: '' });
  const [filters, setFilters] = useState<Filters>(typed);
  const list = useLoad(() => api<Page<Respondent>>('GET', `${base}?${query(filters)}`), [base, filters]);
  const more = useAction();
  const [added, setAdded] = useState<Respondent | null>(null);

  const loadMore = async () => {
    const next = await more.run(() => api<Page<Respondent>>('GET', `${base}?${query(filters, list.data?.nextCursor)}`));
    if (next) list.setData({ items: [...(list.data?.items ?? []), ...next.items], nextCursor: next.nextCursor });
  };
  const search = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ ...typed });
  };
  const detail = (username: string) => `/surveys/${encodeURIComponent(slug)}/respondents/${encodeURIComponent(username)}`;

  return (
    <>
      <form className="card filters" onSubmit={search} role="search" aria-label="Filter respondents">
        <Field label="Search" hint="Part of the username, name or email.">
          {(p) => <input {...p} type="search" value={typed.search} onChange={(e) => setTyped({ ...typed, search: e.target.value })} />}
        </Field>
        <Field label="Status">
          {(p) => (
            <select {...p} value={typed.status} onChange={(e) => setTyped({ ...typed, status: e.target.value })}>
              <option value="">Any</option>
              {RESPONDENT_STATUSES.map((s) => (
                <option key={s} value={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Label">
          {(p) => (
            <select {...p} value={typed.label} onChange={(e) => setTyped({ ...typed, label: e.target.value })}>
              {LABELS.map((l) => (
                <option key={l} value={l}>{l}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Label value" hint="Exact value.">
          {(p) => <input {...p} value={typed.labelValue} onChange={(e) => setTyped({ ...typed, labelValue: e.target.value })} />}
        </Field>
        <div className="actions align-end">
          <button type="submit" className="btn-primary">Apply</button>
        </div>
      </form>
      {admin && (
        <AddRespondent
          slug={slug}
          onAdded={(r) => {
            setAdded(r);
            void list.reload();
          }}
        />
      )}
      {added && (
        <p className="alert alert-success" role="status">
          Added <Link to={detail(added.username)}>{added.username}</Link>.{' '}
          {added.authUrl && <CopyButton text={added.authUrl} label="Copy auth URL" />}
        </p>
      )}
      <ErrorMessage error={list.error} />
      {list.loading && <Loading label="Loading respondents…" />}
      {list.data && list.data.items.length === 0 && !list.loading && <p className="empty">No respondents match.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Respondents">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name / email</th>
                <th scope="col">Status</th>
                <th scope="col">Labels</th>
                <th scope="col">Created</th>
                {admin && <th scope="col">Auth URL</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((r) => (
                <tr key={r.userId}>
                  <td data-label="Username">
                    <Link to={detail(r.username)}>{r.username}</Link>
                  </td>
                  <td data-label="Name / email">{[r.name, r.email].filter(Boolean).join(' · ') || '—'}</td>
                  <td data-label="Status"><span className="badge">{r.status}</span></td>
                  <td data-label="Labels">{labelsOf(r) || '—'}</td>
                  <td data-label="Created">{formatDate(r.createdAt)} <span className="muted small">({r.createdVia})</span></td>
                  {admin && <td data-label="Auth URL">{r.authUrl ? <CopyButton text={r.authUrl} label="Copy" /> : '—'}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorMessage error={more.error} />
      {list.data?.nextCursor && (
        <button type="button" onClick={loadMore} disabled={more.busy}>
          {more.busy ? 'Loading…' : 'Load more'}
        </button>
      )}
      {admin && <CsvImport slug={slug} onImported={() => void list.reload()} />}
      {!admin && <p className="note">Adding, importing and exporting respondents needs the admin role.</p>}
    </>
  );
}
