/**
 * One endpoint's deliveries log: status, event, attempts, last answer, next retry; a detail
 * view of every attempt; retry one delivery; replay a time range.
 */
import { Fragment, useState, type FormEvent } from 'react';
import { api, type Page } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { WEBHOOK_EVENTS, type DeliveryDetail, type DeliverySummary, type Endpoint } from '../types.ts';
import { ErrorMessage, Field, Loading, formatDate, useAction, useLoad } from '../ui.tsx';

function Attempts({ slug, id }: { slug: string; id: string }) {
  const detail = useLoad(() => api<DeliveryDetail>('GET', `/api/admin/surveys/${encodeURIComponent(slug)}/deliveries/${id}`), [slug, id]);
  if (detail.loading && !detail.data) return <Loading label="Loading attempts…" />;
  if (detail.error) return <ErrorMessage error={detail.error} />;
  const d = detail.data!;
  if (d.attempts.length === 0) return <p className="muted">No attempt yet.</p>;
  return (
    <ol className="attempts">
      {d.attempts.map((a, i) => (
        <li key={i}>
          <strong>{formatDate(a.at)}</strong> — {a.statusCode !== null ? `HTTP ${a.statusCode}` : 'no answer'}
          {a.latencyMs !== null && `, ${a.latencyMs} ms`}
          {a.error && <span className="field-error"> {a.error}</span>}
          {a.responseExcerpt && (
            <div className="small">
              Response: <code className="wrap">{a.responseExcerpt}</code>
            </div>
          )}
          {Object.keys(a.requestHeaders).length > 0 && (
            <details className="small">
              <summary>Request headers</summary>
              <pre className="pre">{Object.entries(a.requestHeaders).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}

function Replay({ slug, endpointId, onDone }: { slug: string; endpointId: string; onDone: () => void }) {
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [status, setStatus] = useState('');
  const [result, setResult] = useState<number | null>(null);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(null);
    const body: Record<string, string> = { since: since ? new Date(since).toISOString() : '' };
    if (until) body.until = new Date(until).toISOString();
    if (status) body.status = status;
    const r = await action.run(() => api<{ replayed: number }>('POST', `/api/admin/surveys/${encodeURIComponent(slug)}/webhooks/${endpointId}/replay`, body));
    if (r) {
      setResult(r.replayed);
      onDone();
    }
  };
  return (
    <section className="card section" aria-labelledby="replay-title">
      <h2 id="replay-title">Replay a time range</h2>
      <form onSubmit={submit} className="grid-form" noValidate>
        <Field label="From" path="since" fields={action.fields}>
          {(p) => <input {...p} type="datetime-local" required value={since} onChange={(e) => setSince(e.target.value)} />}
        </Field>
        <Field label="Until (optional)" path="until" fields={action.fields}>
          {(p) => <input {...p} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />}
        </Field>
        <Field label="Only" path="status" fields={action.fields}>
          {(p) => (
            <select {...p} value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">every delivery</option>
              <option value="failed">failed ones</option>
              <option value="succeeded">succeeded ones</option>
              <option value="pending">pending ones</option>
            </select>
          )}
        </Field>
        <div className="actions align-end">
          <button type="submit" disabled={action.busy}>{action.busy ? 'Replaying…' : 'Replay'}</button>
        </div>
      </form>
      <ErrorMessage error={action.error} />
      {result !== null && <p className="alert alert-success" role="status">{result} deliver{result === 1 ? 'y' : 'ies'} queued again.</p>}
    </section>
  );
}

export function WebhookDeliveries({ slug, endpointId }: { slug: string; endpointId: string }) {
  const { can } = useSession();
  const base = `/api/admin/surveys/${encodeURIComponent(slug)}`;
  const endpoint = useLoad(() => api<Endpoint>('GET', `${base}/webhooks/${endpointId}`), [base, endpointId]);
  const [filter, setFilter] = useState({ status: '', eventType: '' });
  const q = new URLSearchParams({ limit: '50' });
  if (filter.status) q.set('status', filter.status);
  if (filter.eventType) q.set('eventType', filter.eventType);
  const qs = q.toString();
  const list = useLoad(() => api<Page<DeliverySummary>>('GET', `${base}/webhooks/${endpointId}/deliveries?${qs}`), [base, endpointId, qs]);
  const [open, setOpen] = useState<string | null>(null);
  const retry = useAction();
  const more = useAction();
  const [notice, setNotice] = useState<string | null>(null);

  const doRetry = async (d: DeliverySummary) => {
    setNotice(null);
    const r = await retry.run(() => api<DeliveryDetail>('POST', `${base}/deliveries/${d.id}/retry`));
    if (r) {
      setNotice(`Delivery of ${r.eventType} queued again.`);
      list.setData(list.data && { ...list.data, items: list.data.items.map((x) => (x.id === r.id ? r : x)) });
    }
  };
  const loadMore = async () => {
    const next = await more.run(() => api<Page<DeliverySummary>>('GET', `${base}/webhooks/${endpointId}/deliveries?${qs}&cursor=${encodeURIComponent(list.data?.nextCursor ?? '')}`));
    if (next) list.setData({ items: [...(list.data?.items ?? []), ...next.items], nextCursor: next.nextCursor });
  };

  return (
    <>
      <p className="crumbs">
        <Link to={`/surveys/${encodeURIComponent(slug)}/webhooks`}>Webhooks</Link> /
      </p>
      <h2>Deliveries{endpoint.data && <> to <code className="wrap">{endpoint.data.url}</code></>}</h2>
      <ErrorMessage error={endpoint.error} />
      {endpoint.data && !endpoint.data.enabled && <p className="alert alert-error">This endpoint is disabled{endpoint.data.disabledReason ? `: ${endpoint.data.disabledReason}` : ''}. Re-enable it on the Webhooks tab.</p>}
      <div className="card filters-2" role="search" aria-label="Filter deliveries">
        <Field label="Status">
          {(p) => (
            <select {...p} value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
              <option value="">Any</option>
              <option value="pending">pending</option>
              <option value="succeeded">succeeded</option>
              <option value="failed">failed</option>
            </select>
          )}
        </Field>
        <Field label="Event">
          {(p) => (
            <select {...p} value={filter.eventType} onChange={(e) => setFilter({ ...filter, eventType: e.target.value })}>
              <option value="">Any</option>
              {[...WEBHOOK_EVENTS, 'ping'].map((ev) => (
                <option key={ev} value={ev}>{ev}</option>
              ))}
            </select>
          )}
        </Field>
        <div className="actions align-end">
          <button type="button" onClick={() => void list.reload()} disabled={list.loading}>{list.loading ? 'Refreshing…' : 'Refresh'}</button>
        </div>
      </div>
      {notice && <p className="alert alert-success" role="status">{notice}</p>}
      <ErrorMessage error={retry.error} />
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading label="Loading deliveries…" />}
      {list.data && list.data.items.length === 0 && <p className="empty">No deliveries{filter.status || filter.eventType ? ' match' : ' yet'}.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Next retry</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <Fragment key={d.id}>
                  <tr>
                    <td data-label="Created">{formatDate(d.createdAt)}</td>
                    <td data-label="Event"><code>{d.eventType}</code></td>
                    <td data-label="Status"><span className={`badge ${d.state === 'succeeded' ? 'badge-ok' : d.state === 'failed' ? 'badge-off' : ''}`}>{d.state}</span></td>
                    <td data-label="Attempts">{d.attemptCount}</td>
                    <td data-label="Last answer">{d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : '—'}{d.lastError && <span className="small muted"> {d.lastError}</span>}</td>
                    <td data-label="Next retry">{d.nextAttemptAt ? formatDate(d.nextAttemptAt) : '—'}</td>
                    <td>
                      <div className="actions">
                        <button type="button" className="btn-small" aria-expanded={open === d.id} onClick={() => setOpen(open === d.id ? null : d.id)}>
                          {open === d.id ? 'Hide attempts' : 'Attempts'}
                        </button>
                        {can('admin') && (
                          <button type="button" className="btn-small" onClick={() => doRetry(d)} disabled={retry.busy}>
                            Retry
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                  {open === d.id && (
                    <tr className="detail-row">
                      <td colSpan={7}>
                        <Attempts slug={slug} id={d.id} />
                      </td>
                    </tr>
                  )}
                </Fragment>
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
      {can('admin') && <Replay slug={slug} endpointId={endpointId} onDone={() => void list.reload()} />}
    </>
  );
}
