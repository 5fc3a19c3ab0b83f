// The survey form: answers autosave (debounced) as they change, with a visible save state;
// submit saves what is pending, checks required answers here and on the server, and hands
// the outcome to the page. A failed sync hook shows TrialKit's "Protocol error" with a retry.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, type AnswerValue, type Hook, type Outcome, type Session, type SurveyApi } from './api.ts';
import { Field, fromDraft, toDraft, type Draft } from './fields.tsx';

const AUTOSAVE_MS = 600;
type SaveState = 'idle' | 'pending' | 'saving' | 'saved' | 'failed';

interface Props {
  session: Session;
  client: SurveyApi;
  onOutcome: (o: Outcome, fresh: boolean) => void;
  onReload: () => void;
}

export function SurveyForm({ session, client, onOutcome, onReload }: Props) {
  const questions = session.definition.questions;
  const [drafts, setDrafts] = useState<Record<string, Draft>>(() => Object.fromEntries(questions.map((q) => [q.id, toDraft(q, session.answers[q.id])])));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saveState, setSaveState] = useState<SaveState>('idle');
  const [failedHooks, setFailedHooks] = useState<Hook[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [locked, setLocked] = useState(session.locked);
  const [busy, setBusy] = useState(false);
  const pending = useRef<Record<string, AnswerValue | null>>({});
  const timer = useRef<number | undefined>(undefined);
  const inFlight = useRef<Promise<boolean> | null>(null);

  const applyServerErrors = useCallback((err: ApiError) => {
    const next: Record<string, string> = {};
    for (const f of err.details.fields ?? []) {
      const id = f.path.split('/').pop() ?? '';
      next[id] = f.path.startsWith('/answers/') ? 'This question needs an answer.' : f.message;
    }
    setErrors((e) => ({ ...e, ...next }));
  }, []);

  /** Sends what is pending; resolves true when everything is saved. */
  const flush = useCallback(async (): Promise<boolean> => {
    window.clearTimeout(timer.current);
    if (inFlight.current) await inFlight.current;
    const batch = pending.current;
    if (Object.keys(batch).length === 0) return true;
    pending.current = {};
    setSaveState('saving');
    const run = (async () => {
      try {
        const res = await client.save(batch);
        const failed = res.hooks.filter((h) => !h.ok);
        setFailedHooks(failed);
        setSaveState(Object.keys(pending.current).length > 0 ? 'pending' : 'saved');
        return true;
      } catch (err) {
        // Keep the batch (newer edits win) so the next save or the retry sends it again.
        pending.current = { ...batch, ...pending.current };
        setSaveState('failed');
        if (err instanceof ApiError) {
          if (err.code === 'RECORD_LOCKED') setLocked(true);
          else if (err.code === 'ALREADY_SUBMITTED' || err.code === 'SURVEY_CLOSED' || err.status === 401) onReload();
          else if (err.code === 'VALIDATION_FAILED') applyServerErrors(err);
          setMessage(err.code === 'RECORD_LOCKED' ? 'This record has been locked by a reviewer; it can no longer be changed.' : err.message);
        }
        return false;
      }
    })();
    inFlight.current = run;
    const ok = await run;
    inFlight.current = null;
    return ok;
  }, [client, onReload, applyServerErrors]);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const change = (id: string, d: Draft) => {
    const q = questions.find((x) => x.id === id)!;
    setDrafts((s) => ({ ...s, [id]: d }));
    setMessage(null);
    const parsed = fromDraft(q, d);
    if ('error' in parsed) {
      // An invalid value is not saved; the last valid one stays on the server until it is fixed.
      setErrors((e) => ({ ...e, [id]: parsed.error }));
      delete pending.current[id];
      return;
    }
    setErrors((e) => {
      const { [id]: _gone, ...rest } = e;
      return rest;
    });
    pending.current[id] = parsed.value;
    setSaveState('pending');
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void flush(), AUTOSAVE_MS);
  };

  const retryHooks = async () => {
    const results = await Promise.all(failedHooks.map((h) => (h.deliveryId ? client.retryHook(h.deliveryId).catch(() => h) : Promise.resolve(h))));
    setFailedHooks(results.filter((h) => !h.ok));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const missing: Record<string, string> = {};
    for (const q of questions) {
      const parsed = fromDraft(q, drafts[q.id]);
      if ('error' in parsed) missing[q.id] = parsed.error;
      else if (q.required && parsed.value === null) missing[q.id] = 'This question needs an answer.';
    }
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      setMessage(`Please check ${Object.keys(missing).length === 1 ? 'one answer' : `${Object.keys(missing).length} answers`} before submitting.`);
      // Choice questions are fieldsets: focus their first option instead.
      const first = Object.keys(missing)[0];
      (document.getElementById(`q-${first}-0`) ?? document.getElementById(`q-${first}`))?.focus();
      return;
    }
    setBusy(true);
    try {
      if (!(await flush())) return;
      const result = await client.submit();
      onOutcome(result, true);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'MISSING_ANSWERS') {
        applyServerErrors(err);
        setMessage('Some required questions are unanswered.');
      } else if (err instanceof ApiError && (err.code === 'ALREADY_SUBMITTED' || err.status === 401 || err.code === 'SURVEY_CLOSED')) onReload();
      else setMessage(err instanceof Error ? err.message : 'Submitting failed.');
    } finally {
      setBusy(false);
    }
  };

  const leave = async () => {
    if (!window.confirm('Leave the survey? You will not be able to come back to it.')) return;
    setBusy(true);
    try {
      onOutcome(await client.exit(), true);
    } catch (err) {
      setMessage(err instanceof Error ? err.message : 'Leaving failed.');
    } finally {
      setBusy(false);
    }
  };

  const saveText: Record<SaveState, string> = { idle: '', pending: 'Unsaved changes…', saving: 'Saving…', saved: 'All changes saved', failed: 'Not saved' };
  return (
    <form noValidate onSubmit={submit} aria-describedby="form-status">
      {locked ? <p className="notice" role="alert">This record is locked by a reviewer. Your answers can be read but not changed.</p> : null}
      {questions.map((q) => (
        <Field key={q.id} q={q} draft={drafts[q.id]} error={errors[q.id]} disabled={locked || busy} onChange={(d) => change(q.id, d)} />
      ))}
      {failedHooks.length > 0 ? (
        <div className="notice error-box" role="alert">
          <strong>Protocol error.</strong> Your answers are saved, but the study system did not confirm them
          {failedHooks[0].error ? ` (${failedHooks[0].error})` : ''}.{' '}
          <button type="button" onClick={() => void retryHooks()}>Retry</button>
        </div>
      ) : null}
      {message ? <p className="notice error-box" role="alert">{message}</p> : null}
      <div className="bar">
        <p id="form-status" className={`save-state ${saveState}`} role="status" aria-live="polite">
          {saveText[saveState]}
          {saveState === 'failed' ? <> <button type="button" onClick={() => void flush()}>Retry saving</button></> : null}
        </p>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void leave()} disabled={busy}>Leave survey</button>
          <button type="submit" disabled={busy || locked}>Submit</button>
        </div>
      </div>
    </form>
  );
}
