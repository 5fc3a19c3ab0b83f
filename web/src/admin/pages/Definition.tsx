/**
 * The survey definition editor: questions (add, reorder, edit, options), screening rules,
 * quota and completion. Saving makes a new version; the API's errors show next to the field
 * they name (e.g. questions/2/options).
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useSession, ReadOnlyNote } from '../session.tsx';
import { QUESTION_TYPES, type Definition as Def, type Question, type ScreeningRule } from '../types.ts';
import { ErrorMessage, Field, Loading, fieldErrors, formatDate, useAction, useLoad } from '../ui.tsx';
import type { FieldError } from '../api.ts';
import type { SurveyTabProps } from './SurveyPage.tsx';

interface DefinitionView {
  version: number;
  definition: Def;
  createdAt: string;
}

type Op = 'equals' | 'in' | 'lt' | 'gt';
interface RuleDraft {
  question: string;
  op: Op;
  value: string;
  outcome: 'disqualified' | 'quota_full';
  status: string;
}
interface QuestionDraft extends Omit<Question, 'options' | 'min' | 'max'> {
  /** A stable React key, so focus follows a question when it moves. */
  uid: number;
  options: string;
  min: string;
  max: string;
}

const CHOICE = new Set(['single', 'multi']);
let nextUid = 1;
const optionsText = (q: Question) => (q.options ?? []).map((o) => (o.value === o.label ? o.value : `${o.value} = ${o.label}`)).join('\n');
const parseOptions = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf('=');
      return i > 0 ? { value: l.slice(0, i).trim(), label: l.slice(i + 1).trim() } : { value: l, label: l };
    });

function ruleDraft(r: ScreeningRule): RuleDraft {
  const op = (['equals', 'in', 'lt', 'gt'] as const).find((k) => r.when[k] !== undefined) ?? 'equals';
  const v = r.when[op];
  return { question: r.when.question, op, value: Array.isArray(v) ? v.join(', ') : v === undefined ? '' : String(v), outcome: r.outcome, status: r.status === undefined ? '' : String(r.status) };
}

function typed(value: string, q: QuestionDraft | undefined): string | number | boolean {
  if (q?.type === 'number' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (q?.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function toBody(questions: QuestionDraft[], rules: RuleDraft[], maxCompletes: string, message: string, timer: string): Def {
  const def: Def = {
    questions: questions.map((q) => {
      const out: Question = { id: q.id, type: q.type, label: q.label };
      if (q.help) out.help = q.help;
      if (q.required) out.required = true;
      if (CHOICE.has(q.type)) out.options = parseOptions(q.options);
      if (q.min.trim() !== '') out.min = Number(q.min);
      if (q.max.trim() !== '') out.max = Number(q.max);
      return out;
    }),
  };
  if (rules.length) {
    def.screening = rules.map((r) => {
      const q = questions.find((x) => x.id === r.question);
      const when: ScreeningRule['when'] = { question: r.question };
      if (r.op === 'in') when.in = r.value.split(',').map((v) => typed(v.trim(), q));
      else (when as Record<string, unknown>)[r.op] = typed(r.value.trim(), q);
      const rule: ScreeningRule = { when, outcome: r.outcome };
      if (r.status.trim() !== '') rule.status = Number(r.status);
      return rule;
    });
  }
  if (maxCompletes.trim() !== '') def.quota = { maxCompletes: Number(maxCompletes) };
  if (message.trim() !== '' || timer.trim() !== '') def.completion = { ...(message.trim() ? { message } : {}), ...(timer.trim() ? { redirectTimer: Number(timer) } : {}) };
  return def;
}

function Errors({ fields, path }: { fields: FieldError[]; path: string }) {
  const e = fieldErrors(fields, path);
  return e.length ? <div className="field-error">{[...new Set(e)].join('; ')}</div> : null;
}

function Editor({ slug, initial, onSaved }: { slug: string; initial: DefinitionView | null; onSaved: (v: DefinitionView) => void }) {
  const { can } = useSession();
  const d = initial?.definition;
  const [questions, setQuestions] = useState<QuestionDraft[]>(() =>
    (d?.questions ?? []).map((q) => ({ ...q, uid: nextUid++, options: optionsText(q), min: q.min === undefined ? '' : String(q.min), max: q.max === undefined ? '' : String(q.max) })),
  );
  const [rules, setRules] = useState<RuleDraft[]>(() => (d?.screening ?? []).map(ruleDraft));
  const [maxCompletes, setMaxCompletes] = useState(d?.quota?.maxCompletes === undefined ? '' : String(d.quota.maxCompletes));
  const [message, setMessage] = useState(d?.completion?.message ?? '');
  const [timer, setTimer] = useState(d?.completion?.redirectTimer === undefined ? '' : String(d.completion.redirectTimer));
  const save = useAction();
  const f = save.fields;

  const setQ = (i: number, patch: Partial<QuestionDraft>) => setQuestions(questions.map((q, j) => (j === i ? { ...q, ...patch } : q)));
  const moveQ = (i: number, by: number) => {
    const next = [...questions];
    const [q] = next.splice(i, 1);
    next.splice(i + by, 0, q);
    setQuestions(next);
  };
  const moveR = (i: number, by: number) => {
    const next = [...rules];
    const [r] = next.splice(i, 1);
    next.splice(i + by, 0, r);
    setRules(next);
  };
  const setR = (i: number, patch: Partial<RuleDraft>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const saved = await save.run(() => api<DefinitionView>('PUT', `/api/admin/surveys/${encodeURIComponent(slug)}/definition`, toBody(questions, rules, maxCompletes, message, timer)));
    if (saved) onSaved(saved);
  };

  return (
    <form onSubmit={submit} noValidate>
      <ReadOnlyNote need="admin" />
      <fieldset disabled={!can('admin')} className="plain">
        <section className="card section" aria-labelledby="q-title">
          <h2 id="q-title">Questions</h2>
          {questions.length === 0 && <p className="muted">No questions yet.</p>}
          {questions.map((q, i) => (
            <fieldset key={q.uid} className="level">
              <legend>Question {i + 1}</legend>
              <div className="grid-3">
                <Field label="Id" path={`questions/${i}/id`} fields={f}>
                  {(p) => <input {...p} value={q.id} onChange={(e) => setQ(i, { id: e.target.value })} />}
                </Field>
                <Field label="Type" path={`questions/${i}/type`} fields={f}>
                  {(p) => (
                    <select {...p} value={q.type} onChange={(e) => setQ(i, { type: e.target.value as Question['type'] })}>
                      {QUESTION_TYPES.map((t) => (
                        <option key={t} value={t}>{t}</option>
                      ))}
                    </select>
                  )}
                </Field>
                <label className="check align-end">
                  <input type="checkbox" checked={q.required ?? false} onChange={(e) => setQ(i, { required: e.target.checked })} /> Required
                </label>
              </div>
              <Field label="Question text" path={`questions/${i}/label`} fields={f}>
                {(p) => <input {...p} value={q.label} onChange={(e) => setQ(i, { label: e.target.value })} />}
              </Field>
              <Field label="Help (optional)" path={`questions/${i}/help`} fields={f}>
                {(p) => <input {...p} value={q.help ?? ''} onChange={(e) => setQ(i, { help: e.target.value || undefined })} />}
              </Field>
              {CHOICE.has(q.type) && (
                <Field label="Options" path={`questions/${i}/options`} fields={f} hint='One per line: "value = Label", or just "value".'>
                  {(p) => <textarea {...p} rows={3} value={q.options} onChange={(e) => setQ(i, { options: e.target.value })} />}
                </Field>
              )}
              {(q.type === 'number' || q.type === 'text' || q.type === 'longtext' || q.type === 'multi') && (
                <div className="grid-3">
                  <Field label={q.type === 'number' ? 'Minimum' : q.type === 'multi' ? 'Fewest choices' : 'Shortest'} path={`questions/${i}/min`} fields={f}>
                    {(p) => <input {...p} type="number" value={q.min} onChange={(e) => setQ(i, { min: e.target.value })} />}
                  </Field>
                  <Field label={q.type === 'number' ? 'Maximum' : q.type === 'multi' ? 'Most choices' : 'Longest'} path={`questions/${i}/max`} fields={f}>
                    {(p) => <input {...p} type="number" value={q.max} onChange={(e) => setQ(i, { max: e.target.value })} />}
                  </Field>
                </div>
              )}
              <Errors fields={f.filter((x) => /^\/?(body\/)?questions\/\d+$/.test(x.path))} path={`questions/${i}`} />
              <div className="actions">
                <button type="button" className="btn-small" disabled={i === 0} onClick={() => moveQ(i, -1)} aria-label={`Move question ${i + 1} up`}>↑ Up</button>
                <button type="button" className="btn-small" disabled={i === questions.length - 1} onClick={() => moveQ(i, 1)} aria-label={`Move question ${i + 1} down`}>↓ Down</button>
                <button type="button" className="btn-small btn-danger" onClick={() => setQuestions(questions.filter((_, j) => j !== i))}>Remove</button>
              </div>
            </fieldset>
          ))}
          <button type="button" className="btn-small" onClick={() => setQuestions([...questions, { uid: nextUid++, id: `q${questions.length + 1}`, type: 'text', label: '', options: '', min: '', max: '' }])}>
            Add a question
          </button>
        </section>

        <section className="card section" aria-labelledby="rules-title">
          <h2 id="rules-title">Screening rules</h2>
          <p className="hint">At submit, the first matching rule ends the survey with its outcome.</p>
          {rules.map((r, i) => (
            <fieldset key={i} className="level">
              <legend>Rule {i + 1}</legend>
              <div className="grid-form">
                <Field label="Question" path={`screening/${i}/when/question`} fields={f}>
                  {(p) => (
                    <select {...p} value={r.question} onChange={(e) => setR(i, { question: e.target.value })}>
                      <option value="">Choose…</option>
                      {questions.map((q) => (
                        <option key={q.id} value={q.id}>{q.id}</option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field label="Is" path={`screening/${i}/when`} fields={f.filter((x) => /when$/.test(x.path))}>
                  {(p) => (
                    <select {...p} value={r.op} onChange={(e) => setR(i, { op: e.target.value as Op })}>
                      <option value="equals">equal to</option>
                      <option value="in">one of (comma-separated)</option>
                      <option value="lt">less than</option>
                      <option value="gt">greater than</option>
                    </select>
                  )}
                </Field>
                <Field label="Value" path={`screening/${i}/when/${r.op}`} fields={f}>
                  {(p) => <input {...p} value={r.value} onChange={(e) => setR(i, { value: e.target.value })} />}
                </Field>
                <Field label="Outcome" path={`screening/${i}/outcome`} fields={f}>
                  {(p) => (
                    <select {...p} value={r.outcome} onChange={(e) => setR(i, { outcome: e.target.value as RuleDraft['outcome'] })}>
                      <option value="disqualified">disqualified</option>
                      <option value="quota_full">quota full</option>
                    </select>
                  )}
                </Field>
                <Field label="Status code (optional)" path={`screening/${i}/status`} fields={f}>
                  {(p) => <input {...p} type="number" value={r.status} onChange={(e) => setR(i, { status: e.target.value })} />}
                </Field>
              </div>
              <div className="actions">
                <button type="button" className="btn-small" disabled={i === 0} onClick={() => moveR(i, -1)} aria-label={`Move rule ${i + 1} up`}>↑ Up</button>
                <button type="button" className="btn-small" disabled={i === rules.length - 1} onClick={() => moveR(i, 1)} aria-label={`Move rule ${i + 1} down`}>↓ Down</button>
                <button type="button" className="btn-small btn-danger" onClick={() => setRules(rules.filter((_, j) => j !== i))}>Remove rule</button>
              </div>
            </fieldset>
          ))}
          <button type="button" className="btn-small" onClick={() => setRules([...rules, { question: questions[0]?.id ?? '', op: 'equals', value: '', outcome: 'disqualified', status: '' }])}>
            Add a rule
          </button>
        </section>

        <section className="card section" aria-labelledby="end-title">
          <h2 id="end-title">Quota and completion</h2>
          <div className="grid-form">
            <Field label="Most completes (quota)" path="quota/maxCompletes" fields={f} hint="Empty: no quota.">
              {(p) => <input {...p} type="number" min={0} value={maxCompletes} onChange={(e) => setMaxCompletes(e.target.value)} />}
            </Field>
            <Field label="Redirect timer (seconds)" path="completion/redirectTimer" fields={f} hint="0: a button only; negative: at once; positive: a countdown.">
              {(p) => <input {...p} type="number" value={timer} onChange={(e) => setTimer(e.target.value)} />}
            </Field>
          </div>
          <Field label="Completion message" path="completion/message" fields={f}>
            {(p) => <textarea {...p} rows={2} value={message} onChange={(e) => setMessage(e.target.value)} />}
          </Field>
        </section>
        <div className="savebar">
          <ErrorMessage error={save.error} />
          <button type="submit" className="btn-primary" disabled={save.busy}>
            {save.busy ? 'Saving…' : 'Save as a new version'}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

export function DefinitionPage({ survey, setSurvey }: SurveyTabProps) {
  const slug = survey.slug;
  const current = useLoad(async () => {
    if (survey.definitionVersion === 0) return null;
    return api<DefinitionView>('GET', `/api/admin/surveys/${encodeURIComponent(slug)}/definition`);
  }, [slug]);
  const [savedNote, setSavedNote] = useState<string | null>(null);
  const [key, setKey] = useState(0);
  if (current.loading && current.data === null) return <Loading label="Loading the definition…" />;
  return (
    <>
      <p className="muted small">
        {current.data ? `Version ${current.data.version}, saved ${formatDate(current.data.createdAt)}.` : 'No definition saved yet.'}
      </p>
      {savedNote && <p className="alert alert-success" role="status">{savedNote}</p>}
      <ErrorMessage error={current.error} />
      {!current.error && (
        <Editor
          key={key}
          slug={slug}
          initial={current.data}
          onSaved={(v) => {
            current.setData(v);
            setSurvey({ ...survey, definitionVersion: v.version });
            setSavedNote(`Saved as version ${v.version}.`);
            setKey(key + 1);
          }}
        />
      )}
    </>
  );
}
