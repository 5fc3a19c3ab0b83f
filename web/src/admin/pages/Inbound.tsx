/** Inbound webhooks: keys (created and shown once, revoked), ready-to-copy URLs per webhook name, and the audit log. */
import { useState, type FormEvent } from 'react';
import { api, type Page } from '../api.ts';
import { useSession, ReadOnlyNote } from '../session.tsx';
import { CopyButton, ErrorMessage, Field, Loading, PageTitle, formatDate, useAction, useLoad } from '../ui.tsx';

interface Key {
  id: string;
  name: string | null;
  keyHint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  active: boolean;
}
interface CreatedKey extends Key {
  accountId: number;
  key: string;
  auth: string;
  urlTemplate: string;
}
interface LogEntry {
  id: number;
  at: string;
  keyId: string | null;
  name: string;
  status: number;
  result: string;
  message: string | null;
  clientIp: string | null;
  surveyId: number | null;
  respondentId: number | null;
  changedFields: string[];
  requestId: string | null;
}

const WEBHOOK_NAMES = ['add-respondent', 'update-respondent'];

function AuditLog({ keys }: { keys: Key[] }) {
  const [keyId, setKeyId] = useState('');
  const qs = `limit=50${keyId ? `&keyId=${keyId}` : ''}`;
  const log = useLoad(() => api<Page<LogEntry>>('GET', `/api/admin/inbound-log?${qs}`), [qs]);
  const more = useAction();
  const hint = (id: string | null) => {
    const k = keys.find((x) => x.id === id);
    return k ? `${k.name ?? 'key'} (${k.keyHint}…)` : '—';
  };
  const loadMore = async () => {
    const next = await more.run(() => api<Page<LogEntry>>('GET', `/api/admin/inbound-log?${qs}&cursor=${encodeURIComponent(log.data?.nextCursor ?? '')}`));
    if (next) log.setData({ items: [...(log.data?.items ?? []), ...next.items], nextCursor: next.nextCursor });
  };
  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Audit log</h2>
      <div className="card filters-2" role="search" aria-label="Filter the audit log">
        <Field label="Key">
          {(p) => (
            <select {...p} value={keyId} onChange={(e) => setKeyId(e.target.value)}>
              <option value="">Every key</option>
              {keys.map((k) => (
                <option key={k.id} value={k.id}>{k.name ?? 'unnamed'} ({k.keyHint}…)</option>
              ))}
            </select>
          )}
        </Field>
        <div />
        <div className="actions align-end">
          <button type="button" onClick={() => void log.reload()} disabled={log.loading}>{log.loading ? 'Refreshing…' : 'Refresh'}</button>
        </div>
      </div>
      <ErrorMessage error={log.error} />
      {log.loading && !log.data && <Loading label="Loading the audit log…" />}
      {log.data && log.data.items.length === 0 && <p className="empty">No inbound calls yet.</p>}
      {log.data && log.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Inbound calls">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Webhook</th>
                <th scope="col">Result</th>
                <th scope="col">Key</th>
                <th scope="col">Changed</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {log.data.items.map((e) => (
                <tr key={e.id}>
                  <td data-label="When">{formatDate(e.at)}</td>
                  <td data-label="Webhook"><code>{e.name}</code></td>
                  <td data-label="Result">
                    <span className={`badge ${e.status < 300 ? 'badge-ok' : 'badge-off'}`}>{e.status} {e.result}</span>
                    {e.message && <div className="small muted">{e.message}</div>}
                  </td>
                  <td data-label="Key">{hint(e.keyId)}</td>
                  <td data-label="Changed">{e.changedFields.join(', ') || '—'}</td>
                  <td data-label="From">{e.clientIp ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorMessage error={more.error} />
      {log.data?.nextCursor && (
        <button type="button" onClick={loadMore} disabled={more.busy}>{more.busy ? 'Loading…' : 'Load more'}</button>
      )}
    </section>
  );
}

export function Inbound() {
  const { can } = useSession();
  const keys = useLoad(() => api<Page<Key>>('GET', '/api/admin/inbound-keys?limit=200'), []);
  const create = useAction();
  const revoke = useAction();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedKey | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const k = await create.run(() => api<CreatedKey>('POST', '/api/admin/inbound-keys', name.trim() ? { name: name.trim() } : {}));
    if (k) {
      setCreated(k);
      setName('');
      void keys.reload();
    }
  };
  const doRevoke = async (k: Key) => {
    if (!window.confirm(`Revoke the key ${k.name ?? k.keyHint}? Calls with it are refused at once.`)) return;
    const ok = await revoke.run(async () => {
      await api('DELETE', `/api/admin/inbound-keys/${k.id}`);
      return true;
    });
    if (ok) void keys.reload();
  };

  return (
    <>
      <PageTitle>Inbound webhooks</PageTitle>
      <p className="hint">Other systems add and update respondents by calling a URL that carries a key. Create a key per system.</p>
      <ReadOnlyNote need="admin" />
      <form onSubmit={submit} className="card" aria-labelledby="new-key-title">
        <h2 id="new-key-title">New key</h2>
        <fieldset disabled={!can('admin')} className="plain grid-form">
          <Field label="Name (optional)" path="name" fields={create.fields} hint="Which system uses it.">
            {(p) => <input {...p} maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <div className="actions align-end">
            <button type="submit" className="btn-primary" disabled={create.busy}>{create.busy ? 'Creating…' : 'Create key'}</button>
          </div>
        </fieldset>
        <ErrorMessage error={create.error} />
        {created && (
          <div className="alert alert-success shown-once" role="status">
            <p><strong>New key</strong> — shown once. Copy the URLs now; the key and auth cannot be read again.</p>
            {WEBHOOK_NAMES.map((n) => {
              const url = created.urlTemplate.replace('{name}', n);
              return (
                <div key={n} className="copy-row">
                  <span className="small">{n}:</span>
                  <code className="secret-value" data-testid={`inbound-url-${n}`}>{url}</code>
                  <CopyButton text={url} />
                </div>
              );
            })}
            <div className="actions">
              <button type="button" className="btn-small" onClick={() => setCreated(null)}>Done</button>
            </div>
          </div>
        )}
      </form>
      <h2>Keys</h2>
      <ErrorMessage error={keys.error} />
      <ErrorMessage error={revoke.error} />
      {keys.loading && !keys.data && <Loading label="Loading keys…" />}
      {keys.data && keys.data.items.length === 0 && <p className="empty">No inbound keys.</p>}
      {keys.data && keys.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Inbound keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id}>
                  <td data-label="Name">{k.name ?? '—'}</td>
                  <td data-label="Key"><code>{k.keyHint}…</code></td>
                  <td data-label="Created">{formatDate(k.createdAt)}</td>
                  <td data-label="Last used">{k.lastUsedAt ? formatDate(k.lastUsedAt) : 'never'}</td>
                  <td data-label="State">{k.active ? 'active' : `revoked ${formatDate(k.revokedAt)}`}</td>
                  <td>
                    {k.active && (
                      <button type="button" className="btn-small btn-danger" disabled={!can('admin') || revoke.busy} onClick={() => doRevoke(k)} aria-label={`Revoke key ${k.name ?? k.keyHint}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {keys.data && <AuditLog keys={keys.data.items} />}
    </>
  );
}
