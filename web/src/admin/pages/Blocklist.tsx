/**
 * Panel mode: the account's blocklist. A blocked identifier (a respondent's username) is
 * refused at entry to every survey of the account (status 9). Viewers read it; admins edit it.
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { ReadOnlyNote, useSession } from '../session.tsx';
import type { BlockEntry } from '../types.ts';
import { ErrorMessage, Field, Loading, PageTitle, formatDate, useAction, useLoad } from '../ui.tsx';
import './panel.css';

export function Blocklist() {
  const { me, can } = useSession();
  const canWrite = can('admin');
  const list = useLoad(() => api<{ items: BlockEntry[] }>('GET', '/api/admin/blocklist'), []);
  const add = useAction();
  const remove = useAction();
  const [identifier, setIdentifier] = useState('');
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [filter, setFilter] = useState('');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNotice(null);
    const id = identifier.trim();
    const existed = list.data?.items.some((x) => x.identifier === id) ?? false;
    const entry = await add.run(() => api<BlockEntry>('POST', '/api/admin/blocklist', { identifier: id, reason: reason.trim() === '' ? null : reason.trim() }));
    if (entry) {
      setNotice(existed ? `${entry.identifier} was already blocked; its reason was updated.` : `${entry.identifier} is blocked.`);
      setIdentifier('');
      setReason('');
      void list.reload();
    }
  };
  const unblock = async (entry: BlockEntry) => {
    setNotice(null);
    setRemoving(entry.identifier);
    const ok = await remove.run(async () => {
      await api('DELETE', `/api/admin/blocklist/${encodeURIComponent(entry.identifier)}`);
      return true;
    });
    setRemoving(null);
    if (ok) {
      setNotice(`${entry.identifier} is no longer blocked.`);
      void list.reload();
    }
  };

  const needle = filter.trim().toLowerCase();
  const items = (list.data?.items ?? []).filter((x) => needle === '' || x.identifier.toLowerCase().includes(needle) || (x.reason || '').toLowerCase().includes(needle));

  return (
    <>
      <PageTitle>Blocklist</PageTitle>
      <p className="hint">
        Respondents of {me.account.name} whose identifier (username) is listed here are refused at entry to every survey of the account, with status 9 (banned).
      </p>
      <ReadOnlyNote need="admin" />
      <form onSubmit={submit} className="card" aria-labelledby="block-title">
        <h2 id="block-title">Add to the blocklist</h2>
        <fieldset disabled={!canWrite} className="plain block-form">
          <Field label="Identifier" path="identifier" fields={add.fields} hint="The respondent's username.">
            {(p) => <input {...p} required maxLength={1024} value={identifier} onChange={(e) => setIdentifier(e.target.value)} />}
          </Field>
          <Field label="Reason (optional)" path="reason" fields={add.fields}>
            {(p) => <input {...p} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />}
          </Field>
          <div className="actions align-end">
            <button type="submit" className="btn-primary" disabled={add.busy || identifier.trim() === ''}>
              {add.busy ? 'Blocking…' : 'Block'}
            </button>
          </div>
        </fieldset>
        <ErrorMessage error={add.error} />
      </form>
      {notice && <p role="status" className="ok">{notice}</p>}
      <div className="page-head">
        <h2>Blocked identifiers{list.data ? ` (${list.data.items.length})` : ''}</h2>
        {(list.data?.items.length ?? 0) > 5 && (
          <label className="filter-inline">
            <span className="visually-hidden">Filter the blocklist</span>
            <input type="search" placeholder="Filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
        )}
      </div>
      <ErrorMessage error={list.error} />
      <ErrorMessage error={remove.error} />
      {list.loading && !list.data && <Loading label="Loading the blocklist…" />}
      {list.data && list.data.items.length === 0 && <p className="empty">Nobody is blocked.</p>}
      {list.data && list.data.items.length > 0 && items.length === 0 && <p className="empty">No entry matches “{filter}”.</p>}
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="table blocklist-table" aria-label="Blocklist">
            <thead>
              <tr>
                <th scope="col">Identifier</th>
                <th scope="col">Reason</th>
                <th scope="col">Blocked</th>
                {canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.identifier}>
                  <td data-label="Identifier"><code className="wrap-anywhere">{x.identifier}</code></td>
                  <td data-label="Reason" className="reason">{x.reason || '—'}</td>
                  <td data-label="Blocked">{formatDate(x.createdAt)}</td>
                  {canWrite && (
                    <td>
                      <button type="button" className="btn-small btn-danger" disabled={removing === x.identifier} onClick={() => void unblock(x)} aria-label={`Unblock ${x.identifier}`}>
                        {removing === x.identifier ? 'Unblocking…' : 'Unblock'}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
