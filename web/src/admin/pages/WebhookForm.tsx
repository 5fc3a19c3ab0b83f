/** Create or edit a webhook endpoint: URL, events, format, mode, timeout, headers and authentication. */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { WEBHOOK_EVENTS, type Endpoint, type EndpointWithSecret } from '../types.ts';
import { ErrorMessage, Field, fieldErrors, useAction } from '../ui.tsx';

interface FormState {
  url: string;
  events: string[];
  format: string;
  mode: string;
  timeoutMs: string;
  authType: string;
  jwtSecret: string;
  issuer: string;
  basicUser: string;
  basicPassword: string;
  headers: string;
  changeAuth: boolean;
}

const initial = (e?: Endpoint): FormState => ({
  url: e?.url ?? '',
  events: e ? [...e.events] : ['submission.completed'],
  format: e?.format ?? 'standard',
  mode: e?.mode ?? 'async',
  timeoutMs: e ? String(e.timeoutMs) : '',
  authType: e?.auth.type ?? 'hmac',
  jwtSecret: '',
  issuer: e?.auth.issuer ?? '',
  basicUser: e?.auth.username ?? '',
  basicPassword: '',
  headers: '',
  changeAuth: !e,
});

function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function WebhookForm({ slug, endpoint, onSaved, onCancel }: { slug: string; endpoint?: Endpoint; onSaved: (e: EndpointWithSecret) => void; onCancel?: () => void }) {
  const [f, setF] = useState<FormState>(() => initial(endpoint));
  const action = useAction();
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((x) => ({ ...x, [k]: v }));
  const all = f.events.includes('*');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = { url: f.url.trim(), events: f.events, format: f.format, mode: f.mode };
    if (f.timeoutMs.trim()) body.timeoutMs = Number(f.timeoutMs);
    if (f.headers.trim()) body.headers = headersOf(f.headers);
    if (f.changeAuth) {
      if (f.authType === 'jwt') body.auth = { type: 'jwt', ...(f.jwtSecret ? { secret: f.jwtSecret } : {}), ...(f.issuer.trim() ? { issuer: f.issuer.trim() } : {}) };
      else if (f.authType === 'basic') body.auth = { type: 'basic', username: f.basicUser, password: f.basicPassword };
      else body.auth = { type: f.authType };
    }
    const base = `/api/admin/surveys/${encodeURIComponent(slug)}/webhooks`;
    const saved = await action.run(() =>
      endpoint ? api<EndpointWithSecret>('PATCH', `${base}/${endpoint.id}`, body) : api<EndpointWithSecret>('POST', base, body),
    );
    if (saved) onSaved(saved);
  };

  return (
    <form onSubmit={submit} noValidate className="webhook-form">
      <Field label="URL" path="url" fields={action.fields} hint="Where events are POSTed.">
        {(p) => <input {...p} type="url" required value={f.url} placeholder="https://crm.example/hooks/surveybridge" onChange={(e) => set('url', e.target.value)} />}
      </Field>
      <fieldset className="checks-block">
        <legend>Events</legend>
        <label className="check">
          <input type="checkbox" checked={all} onChange={(e) => set('events', e.target.checked ? ['*'] : ['submission.completed'])} /> All events (*)
        </label>
        {!all && (
          <div className="checks">
            {WEBHOOK_EVENTS.map((ev) => (
              <label key={ev} className="check">
                <input
                  type="checkbox"
                  checked={f.events.includes(ev)}
                  onChange={(e) => set('events', e.target.checked ? [...f.events, ev] : f.events.filter((x) => x !== ev))}
                />{' '}
                <code>{ev}</code>
              </label>
            ))}
          </div>
        )}
        {fieldErrors(action.fields, 'events').length > 0 && <div className="field-error">{fieldErrors(action.fields, 'events').join('; ')}</div>}
      </fieldset>
      <div className="grid-form">
        <Field label="Format" path="format" fields={action.fields}>
          {(p) => (
            <select {...p} value={f.format} onChange={(e) => set('format', e.target.value)}>
              <option value="standard">standard</option>
              <option value="trialkit">trialkit (record events)</option>
            </select>
          )}
        </Field>
        <Field label="Mode" path="mode" fields={action.fields} hint="sync: the respondent's request waits for the answer.">
          {(p) => (
            <select {...p} value={f.mode} onChange={(e) => set('mode', e.target.value)}>
              <option value="async">async (queued, retried)</option>
              <option value="sync">sync</option>
            </select>
          )}
        </Field>
        <Field label="Timeout (ms)" path="timeoutMs" fields={action.fields}>
          {(p) => <input {...p} type="number" min={100} max={30000} placeholder="default" value={f.timeoutMs} onChange={(e) => set('timeoutMs', e.target.value)} />}
        </Field>
      </div>
      <Field label={endpoint ? 'Replace extra headers (optional)' : 'Extra headers (optional)'} path="headers" fields={action.fields} hint={`One "Name: value" per line.${endpoint?.headerNames.length ? ` Now set: ${endpoint.headerNames.join(', ')}.` : ''}`}>
        {(p) => <textarea {...p} rows={2} value={f.headers} onChange={(e) => set('headers', e.target.value)} />}
      </Field>
      {endpoint && (
        <label className="check">
          <input type="checkbox" checked={f.changeAuth} onChange={(e) => set('changeAuth', e.target.checked)} /> Change authentication (now: {endpoint.auth.type})
        </label>
      )}
      {f.changeAuth && (
        <div className="grid-form">
          <Field label="Authentication" path="auth" fields={action.fields}>
            {(p) => (
              <select {...p} value={f.authType} onChange={(e) => set('authType', e.target.value)}>
                <option value="hmac">Signature (Standard Webhooks, secret generated)</option>
                <option value="jwt">JWT bearer</option>
                <option value="basic">Basic auth</option>
                <option value="none">None</option>
              </select>
            )}
          </Field>
          {f.authType === 'jwt' && (
            <>
              <Field label="Own JWT secret (optional)" path="auth/secret" fields={action.fields} hint="Empty: the survey's JWT secret.">
                {(p) => <input {...p} type="password" autoComplete="off" value={f.jwtSecret} onChange={(e) => set('jwtSecret', e.target.value)} />}
              </Field>
              <Field label="Issuer (optional)" path="auth/issuer" fields={action.fields}>
                {(p) => <input {...p} value={f.issuer} onChange={(e) => set('issuer', e.target.value)} />}
              </Field>
            </>
          )}
          {f.authType === 'basic' && (
            <>
              <Field label="Username" path="auth/username" fields={action.fields}>
                {(p) => <input {...p} autoComplete="off" value={f.basicUser} onChange={(e) => set('basicUser', e.target.value)} />}
              </Field>
              <Field label="Password" path="auth/password" fields={action.fields}>
                {(p) => <input {...p} type="password" autoComplete="off" value={f.basicPassword} onChange={(e) => set('basicPassword', e.target.value)} />}
              </Field>
            </>
          )}
        </div>
      )}
      <ErrorMessage error={action.error} />
      <div className="actions">
        <button type="submit" className="btn-primary" disabled={action.busy}>
          {action.busy ? 'Saving…' : endpoint ? 'Save endpoint' : 'Add endpoint'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
