/** Small building blocks every page uses: loading and error states, fields with their errors, copy. */
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, type FieldError } from './api.ts';

function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 'CLIENT_ERROR', e instanceof Error ? e.message : String(e), null, []);
}

/** Loads data when mounted (and when deps change); `reload()` fetches again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    setError(null);
    try {
      const value = await run();
      if (mine === seq.current) setData(value);
    } catch (e) {
      if (mine === seq.current) setError(asApiError(e));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, setData, error, loading, reload };
}

/** Runs a write: `busy` while it runs, the API's error (and field errors) when it fails. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(asApiError(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, setError, fields: error?.fields ?? [] };
}

export function ErrorMessage({ error, title }: { error: ApiError | null; title?: string }) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      {title && <strong>{title}: </strong>}
      {error.message}
      {error.requestId && <span className="muted small"> (request {error.requestId})</span>}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** The field path without its `/body/` prefix (validators name fields both ways). */
export const fieldPath = (p: string) => p.replace(/^\/?(body\/)?/, '');

/** Field errors for `path` (or below it), e.g. "outcomeUrls/completed". */
export function fieldErrors(fields: FieldError[], path: string): string[] {
  return fields.filter((f) => fieldPath(f.path) === path || fieldPath(f.path).startsWith(`${path}/`)).map((f) => f.message);
}

export interface ControlProps {
  id: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

/** A labelled control with a hint and the API's errors for `path` right under it. */
export function Field(props: { label: string; path?: string; fields?: FieldError[]; hint?: ReactNode; children: (p: ControlProps) => ReactNode }) {
  const id = useId();
  const messages = props.path ? fieldErrors(props.fields ?? [], props.path) : [];
  const describedBy = [props.hint ? `${id}-hint` : '', messages.length ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${messages.length ? ' has-error' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, 'aria-invalid': messages.length ? true : undefined, 'aria-describedby': describedBy })}
      {props.hint && <div className="hint" id={`${id}-hint`}>{props.hint}</div>}
      {messages.length > 0 && (
        <div className="field-error" id={`${id}-err`}>
          {[...new Set(messages)].join('; ')}
        </div>
      )}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" className="btn-small" onClick={copy}>
        {state === 'copied' ? 'Copied' : label}
      </button>
      {state === 'failed' && <span className="small muted" role="status"> Copy is blocked here; select the text and copy it.</span>}
    </>
  );
}

/** A secret or token shown once, with a copy button. */
export function ShownOnce({ label, value, onDone }: { label: string; value: string; onDone?: () => void }) {
  return (
    <div className="alert alert-success shown-once" role="status">
      <p>
        <strong>{label}</strong> — shown once. Copy it now; it cannot be read again.
      </p>
      <div className="copy-row">
        <code className="secret-value" data-testid="shown-once">{value}</code>
        <CopyButton text={value} />
        {onDone && (
          <button type="button" className="btn-small" onClick={onDone}>
            Done
          </button>
        )}
      </div>
    </div>
  );
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function PageTitle({ children }: { children: ReactNode }) {
  return (
    <h1 tabIndex={-1} className="page-title">
      {children}
    </h1>
  );
}
