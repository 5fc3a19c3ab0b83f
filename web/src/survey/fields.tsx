// One control per question type. Every input has a <label>; groups (single, multi, boolean)
// are a <fieldset> with a <legend>; help and errors are tied with aria-describedby.
import type { AnswerValue, Question } from './api.ts';

/** What the respondent typed; numbers stay text until they parse, so "1." is not lost while typing. */
export type Draft = string | boolean | string[] | undefined;

export function toDraft(q: Question, v: AnswerValue | undefined): Draft {
  if (v === undefined) return undefined;
  if (q.type === 'number') return String(v);
  return v as Draft;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The value to save (null clears), or an error message the page shows instead of saving. */
export function fromDraft(q: Question, d: Draft): { value: AnswerValue | null } | { error: string } {
  if (d === undefined || d === '' || (Array.isArray(d) && d.length === 0)) return { value: null };
  switch (q.type) {
    case 'number': {
      const n = Number(String(d).trim().replace(',', '.'));
      if (String(d).trim() === '' || !Number.isFinite(n)) return { error: 'Enter a number.' };
      if (q.min !== undefined && n < q.min) return { error: `Enter ${q.min} or more.` };
      if (q.max !== undefined && n > q.max) return { error: `Enter ${q.max} or less.` };
      return { value: n };
    }
    case 'date':
      return typeof d === 'string' && DATE.test(d) ? { value: d } : { error: 'Enter a date.' };
    case 'text':
    case 'longtext': {
      const s = String(d);
      if (q.min !== undefined && s.length < q.min) return { error: `Write at least ${q.min} characters.` };
      if (q.max !== undefined && s.length > q.max) return { error: `Write at most ${q.max} characters.` };
      return { value: s };
    }
    case 'multi': {
      const list = d as string[];
      if (q.min !== undefined && list.length < q.min) return { error: `Choose at least ${q.min}.` };
      if (q.max !== undefined && list.length > q.max) return { error: `Choose at most ${q.max}.` };
      return { value: list };
    }
    default:
      return { value: d as AnswerValue };
  }
}

interface FieldProps {
  q: Question;
  draft: Draft;
  error?: string;
  disabled: boolean;
  onChange: (d: Draft) => void;
}

export function Field({ q, draft, error, disabled, onChange }: FieldProps) {
  const id = `q-${q.id}`;
  const described = [q.help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const label = (
    <>
      {q.label}
      {q.required ? <span className="req" aria-hidden="true"> *</span> : null}
      {q.required ? <span className="sr-only"> (required)</span> : null}
    </>
  );
  const help = q.help ? <p className="help" id={`${id}-help`}>{q.help}</p> : null;
  const err = error ? <p className="error" id={`${id}-error`}>{error}</p> : null;
  const common = { id, disabled, 'aria-describedby': described, 'aria-invalid': error ? true : undefined, 'aria-required': q.required ? true : undefined } as const;

  if (q.type === 'single' || q.type === 'multi' || q.type === 'boolean') {
    const options = q.type === 'boolean' ? [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }] : (q.options ?? []);
    const checked = (v: string) =>
      q.type === 'multi' ? Array.isArray(draft) && draft.includes(v) : q.type === 'boolean' ? draft !== undefined && String(draft) === v : draft === v;
    const pick = (v: string, on: boolean) => {
      if (q.type === 'multi') {
        const cur = Array.isArray(draft) ? draft : [];
        onChange(on ? [...cur.filter((x) => x !== v), v] : cur.filter((x) => x !== v));
      } else onChange(q.type === 'boolean' ? v === 'true' : v);
    };
    return (
      <fieldset className={`question${error ? ' invalid' : ''}`} id={id} aria-describedby={described} aria-invalid={error ? true : undefined}>
        <legend>{label}</legend>
        {help}
        {options.map((o, i) => (
          <label className="choice" key={o.value} htmlFor={`${id}-${i}`}>
            <input
              id={`${id}-${i}`}
              type={q.type === 'multi' ? 'checkbox' : 'radio'}
              name={id}
              value={o.value}
              checked={checked(o.value)}
              disabled={disabled}
              onChange={(e) => pick(o.value, e.target.checked)}
            />{' '}
            {o.label}
          </label>
        ))}
        {err}
      </fieldset>
    );
  }

  const text = typeof draft === 'string' ? draft : '';
  return (
    <div className={`question${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {help}
      {q.type === 'longtext' ? (
        <textarea {...common} rows={5} value={text} maxLength={q.max ?? 10000} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={q.type === 'number' ? 'text' : q.type === 'date' ? 'date' : 'text'}
          inputMode={q.type === 'number' ? 'decimal' : undefined}
          value={text}
          maxLength={q.type === 'text' ? (q.max ?? 1000) : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
      {err}
    </div>
  );
}
