/** Users of the current account: add with a role, change a role, remove. */
import { useState, type FormEvent } from 'react';
import { ROLES, api, type Page } from '../api.ts';
import { ReadOnlyNote, useSession } from '../session.tsx';
import { ErrorMessage, Field, Loading, PageTitle, formatDate, useAction, useLoad } from '../ui.tsx';

interface Member {
  id: number;
  email: string;
  role: string;
  createdAt: string;
}

export function Users() {
  const { me, can } = useSession();
  const list = useLoad(() => api<Page<Member>>('GET', '/api/admin/users?limit=500'), []);
  const add = useAction();
  const change = useAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('viewer');
  const [busyId, setBusyId] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNotice(null);
    const m = await add.run(() => api<Member>('POST', '/api/admin/users', { email, password, role }));
    if (m) {
      setNotice(`${m.email} was added as ${m.role}.`);
      setEmail('');
      setPassword('');
      void list.reload();
    }
  };
  const setMemberRole = async (m: Member, next: string) => {
    setBusyId(m.id);
    setNotice(null);
    const updated = await change.run(() => api<Member>('PATCH', `/api/admin/users/${m.id}`, { role: next }));
    setBusyId(null);
    if (updated) {
      setNotice(`${updated.email} is now ${updated.role}.`);
      list.setData(list.data && { ...list.data, items: list.data.items.map((x) => (x.id === updated.id ? updated : x)) });
    }
  };
  const removeMember = async (m: Member) => {
    if (!window.confirm(`Remove ${m.email} from ${me.account.name}?`)) return;
    setBusyId(m.id);
    setNotice(null);
    const ok = await change.run(async () => {
      await api('DELETE', `/api/admin/users/${m.id}`);
      return true;
    });
    setBusyId(null);
    if (ok) {
      setNotice(`${m.email} was removed.`);
      void list.reload();
    }
  };
  const canEdit = can('admin');

  return (
    <>
      <PageTitle>Users</PageTitle>
      <p className="hint">People who can sign in to {me.account.name}, and their role: owner and admin change everything, reviewer reviews records, viewer only reads.</p>
      <ReadOnlyNote need="admin" />
      <form onSubmit={submit} className="card" aria-labelledby="add-user-title">
        <h2 id="add-user-title">Add a user</h2>
        <fieldset disabled={!canEdit} className="plain grid-form">
          <Field label="Email" path="email" fields={add.fields}>
            {(p) => <input {...p} type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label="Initial password" path="password" fields={add.fields} hint="8 characters or more; share it safely.">
            {(p) => <input {...p} type="password" required minLength={8} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
          </Field>
          <Field label="Role" path="role" fields={add.fields}>
            {(p) => (
              <select {...p} value={role} onChange={(e) => setRole(e.target.value)}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>{r}</option>
                ))}
              </select>
            )}
          </Field>
          <div className="actions align-end">
            <button type="submit" className="btn-primary" disabled={add.busy}>
              {add.busy ? 'Adding…' : 'Add user'}
            </button>
          </div>
        </fieldset>
        <ErrorMessage error={add.error} />
      </form>
      {notice && <p className="alert alert-success" role="status">{notice}</p>}
      <ErrorMessage error={change.error} />
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading label="Loading users…" />}
      {list.data && (
        <div className="table-wrap">
          <table className="table" aria-label="Users">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((m) => (
                <tr key={m.id}>
                  <td data-label="Email">
                    {m.email}
                    {m.id === me.userId && <span className="muted"> (you)</span>}
                  </td>
                  <td data-label="Role">
                    <select value={m.role} aria-label={`Role of ${m.email}`} disabled={!canEdit || busyId === m.id} onChange={(e) => setMemberRole(m, e.target.value)}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td data-label="Added">{formatDate(m.createdAt)}</td>
                  <td>
                    <button type="button" className="btn-small btn-danger" disabled={!canEdit || busyId === m.id} onClick={() => removeMember(m)} aria-label={`Remove ${m.email}`}>
                      {busyId === m.id ? 'Working…' : 'Remove'}
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
