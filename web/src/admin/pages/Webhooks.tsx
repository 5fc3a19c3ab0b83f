/**
 * A survey's webhook endpoints: add, edit, delete, re-enable, rotate the signing secret, and
 * "Send test event" with the attempt shown inline. Each links to its deliveries log.
 */
import { useState } from 'react';
import { api, type Page } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { Attempt, DeliveryDetail, Endpoint } from '../types.ts';
import { ErrorMessage, Loading, ShownOnce, formatDate, useAction, useLoad } from '../ui.tsx';
import type { SurveyTabProps } from './SurveyPage.tsx';
import { WebhookForm } from './WebhookForm.tsx';
import { WebhookDeliveries } from './WebhookDeliveries.tsx';

export function AttemptLine({ attempt }: { attempt: Attempt }) {
  return (
    <span>
      {attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : 'no answer'}
      {attempt.latencyMs !== null && ` in ${attempt.latencyMs} ms`}
      {attempt.error && ` — ${attempt.error}`}
    </span>
  );
}

function EndpointCard({ slug, endpoint, onChanged, onDeleted }: { slug: string; endpoint: Endpoint; onChanged: (e: Endpoint, secret?: string) => void; onDeleted: () => void }) {
  const { can } = useSession();
  const admin = can('admin');
  const path = `/api/admin/surveys/${encodeURIComponent(slug)}/webhooks/${endpoint.id}`;
  const [editing, setEditing] = useState(false);
  const [test, setTest] = useState<{ ok: boolean; attempt: Attempt; delivery: DeliveryDetail } | null>(null);
  const action = useAction();
  const testing = useAction();

  const sendTest = async () => {
    setTest(null);
    const r = await testing.run(() => api<{ ok: boolean; attempt: Attempt; delivery: DeliveryDetail }>('POST', `${path}/test`));
    if (r) setTest(r);
  };
  const reenable = async () => {
    const e = await action.run(() => api<Endpoint>('PATCH', path, { enabled: true }));
    if (e) onChanged(e);
  };
  const disable = async () => {
    const e = await action.run(() => api<Endpoint>('PATCH', path, { enabled: false }));
    if (e) onChanged(e);
  };
  const rotate = async () => {
    if (!window.confirm('Rotate the signing secret? The old one keeps signing for 24 hours.')) return;
    const e = await action.run(() => api<Endpoint & { secret?: string }>('POST', `${path}/rotate-secret`));
    if (e) onChanged(e, e.secret);
  };
  const remove = async () => {
    if (!window.confirm(`Delete the endpoint ${endpoint.url} and its delivery log?`)) return;
    const ok = await action.run(async () => {
      await api('DELETE', path);
      return true;
    });
    if (ok) onDeleted();
  };

  return (
    <article className="card endpoint" aria-label={`Endpoint ${endpoint.url}`}>
      <div className="endpoint-head">
        <code className="wrap">{endpoint.url}</code>
        <span className={`badge ${endpoint.enabled ? 'badge-ok' : 'badge-off'}`}>{endpoint.enabled ? 'enabled' : 'disabled'}</span>
      </div>
      {!endpoint.enabled && endpoint.disabledReason && (
        <p className="alert alert-error">
          Disabled: {endpoint.disabledReason}
        </p>
      )}
      <p className="small muted">
        {endpoint.events.join(', ')} · {endpoint.format} · {endpoint.mode} · {endpoint.timeoutMs} ms · auth {endpoint.auth.type}
        {endpoint.auth.type === 'jwt' && (endpoint.auth.ownSecret ? ' (own secret)' : " (the survey's JWT secret)")}
        {endpoint.headerNames.length > 0 && ` · headers ${endpoint.headerNames.join(', ')}`}
        {endpoint.managedBy && ` · managed by the ${endpoint.managedBy} setting`}
        {endpoint.failingSince && ` · failing since ${formatDate(endpoint.failingSince)}`}
      </p>
      <ErrorMessage error={action.error} />
      <div className="actions">
        <Link className="btn btn-small" to={`/surveys/${encodeURIComponent(slug)}/webhooks/${endpoint.id}`}>
          Deliveries
        </Link>
        {admin && (
          <>
            <button type="button" className="btn-small" onClick={sendTest} disabled={testing.busy}>
              {testing.busy ? 'Sending…' : 'Send test event'}
            </button>
            {!endpoint.enabled ? (
              <button type="button" className="btn-small btn-primary" onClick={reenable} disabled={action.busy}>
                Re-enable
              </button>
            ) : (
              <button type="button" className="btn-small" onClick={disable} disabled={action.busy}>
                Disable
              </button>
            )}
            <button type="button" className="btn-small" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              Edit
            </button>
            {endpoint.auth.type === 'hmac' && (
              <button type="button" className="btn-small" onClick={rotate} disabled={action.busy}>
                Rotate secret
              </button>
            )}
            <button type="button" className="btn-small btn-danger" onClick={remove} disabled={action.busy}>
              Delete
            </button>
          </>
        )}
      </div>
      <ErrorMessage error={testing.error} title="Test event" />
      {test && (
        <p className={`alert ${test.ok ? 'alert-success' : 'alert-error'}`} role="status" data-testid="test-attempt">
          Test event {test.ok ? 'delivered' : 'failed'}: <AttemptLine attempt={test.attempt} />
          {test.attempt.responseExcerpt && (
            <>
              <br />
              <span className="small">Response: <code className="wrap">{test.attempt.responseExcerpt}</code></span>
            </>
          )}
        </p>
      )}
      {editing && (
        <WebhookForm
          slug={slug}
          endpoint={endpoint}
          onCancel={() => setEditing(false)}
          onSaved={(e) => {
            setEditing(false);
            onChanged(e, e.secret);
          }}
        />
      )}
    </article>
  );
}

export function Webhooks(props: SurveyTabProps) {
  return props.item ? <WebhookDeliveries slug={props.survey.slug} endpointId={props.item} /> : <EndpointList {...props} />;
}

function EndpointList({ survey }: SurveyTabProps) {
  const { can } = useSession();
  const slug = survey.slug;
  const list = useLoad(() => api<Page<Endpoint>>('GET', `/api/admin/surveys/${encodeURIComponent(slug)}/webhooks?limit=200`), [slug]);
  const [secret, setSecret] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);

  const replace = (e: Endpoint, s?: string) => {
    if (s) setSecret(s);
    list.setData(list.data && { ...list.data, items: list.data.items.map((x) => (x.id === e.id ? e : x)) });
  };
  return (
    <>
      <p className="hint">Every event of this survey is POSTed to these endpoints, signed, and retried until they answer 2xx.</p>
      {secret && <ShownOnce label="Signing secret" value={secret} onDone={() => setSecret(null)} />}
      {can('admin') &&
        (adding ? (
          <section className="card" aria-labelledby="add-endpoint-title">
            <h2 id="add-endpoint-title">Add an endpoint</h2>
            <WebhookForm
              slug={slug}
              onCancel={() => setAdding(false)}
              onSaved={(e) => {
                setAdding(false);
                if (e.secret) setSecret(e.secret);
                void list.reload();
              }}
            />
          </section>
        ) : (
          <div className="actions">
            <button type="button" className="btn-primary" onClick={() => setAdding(true)}>
              Add an endpoint
            </button>
          </div>
        ))}
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading label="Loading endpoints…" />}
      {list.data && list.data.items.length === 0 && <p className="empty">No webhook endpoints.</p>}
      {list.data?.items.map((e) => (
        <EndpointCard key={e.id} slug={slug} endpoint={e} onChanged={replace} onDeleted={() => void list.reload()} />
      ))}
    </>
  );
}
