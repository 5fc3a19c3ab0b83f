/** API tokens of the current account: create (shown once), list, revoke. */
import { useState, type FormEvent } from 'react';
import { api, type Page } from '../api.ts';
import { ReadOnlyNote, useSession } from '../session.tsx';
import { ErrorMessage, Field, Loading, PageTitle, ShownOnce, formatDate, useAction, useLoad } from '../ui.tsx';

interface Token {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export function Tokens() {
  const { me, can } = useSession();
  const list = useLoad(() => api<Page<Token>>('GET', '/api/admin/tokens?limit=200'), []);
  const create = useAction();
  const revoke = useAction();
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: { name: string; expiresAt?: string } = { name };
    // A date input gives a day: the token works until the end of it (local time).
    if (expires) body.expiresAt = new Date(`${expires}T23:59:59`).toISOString();
    const t = await create.run(() => api<Token & { token: string }>('POST', '/api/admin/tokens', body));
    if (t) {
      setCreated(t.token);
      setName('');
      setExpires('');
      void list.reload();
    }
  };
  const doRevoke = async (t: Token) => {
    if (!window.confirm(`Revoke the token “${t.name}”? Programs that use it stop working at once.`)) return;
    setRevoking(t.id);
    const ok = await revoke.run(async () => {
      await api('DELETE', `/api/admin/tokens/${encodeURIComponent(t.id)}`);
      return true;
    });
    setRevoking(null);
    if (ok) void list.reload();
  };

  return (
    <>
      <PageTitle>API tokens</PageTitle>
      <p className="hint">A token acts with your role ({me.account.role}) in {me.account.name}. Send it as <code>Authorization: Bearer sbt_…</code>.</p>
      <ReadOnlyNote need="reviewer" />
      <form onSubmit={submit} className="card form-inline" aria-labelledby="new-token-title">
        <h2 id="new-token-title">New token</h2>
        <fieldset disabled={!can('reviewer')} className="plain grid-form">
          <Field label="Name" path="name" fields={create.fields} hint="What uses it, e.g. “CRM sync”.">
            {(p) => <input {...p} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Expires (optional)" path="expiresAt" fields={create.fields}>
            {(p) => <input {...p} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />}
          </Field>
          <div className="actions align-end">
            <button type="submit" className="btn-primary" disabled={create.busy}>
              {create.busy ? 'Creating…' : 'Create token'}
            </button>
          </div>
        </fieldset>
        <ErrorMessage error={create.error} />
        {created && <ShownOnce label="API token" value={created} onDone={() => setCreated(null)} />}
      </form>
      <h2>Tokens</h2>
      <ErrorMessage error={list.error} />
      <ErrorMessage error={revoke.error} />
      {list.loading && !list.data && <Loading label="Loading tokens…" />}
      {list.data && list.data.items.length === 0 && <p className="empty">No API tokens.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id}>
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Role">{t.role}</td>
                  <td data-label="Created">{formatDate(t.createdAt)}</td>
                  <td data-label="Expires">{t.expiresAt ? formatDate(t.expiresAt) : 'never'}</td>
                  <td data-label="Last used">{t.lastUsedAt ? formatDate(t.lastUsedAt) : 'never'}</td>
                  <td>
                    <button type="button" className="btn-small btn-danger" disabled={!can('reviewer') || revoking === t.id} onClick={() => doRevoke(t)} aria-label={`Revoke ${t.name}`}>
                      {revoking === t.id ? 'Revoking…' : 'Revoke'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
