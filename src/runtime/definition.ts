/**
 * Survey definitions: the TypeBox shape PUT accepts, the semantic checks TypeBox cannot
 * express (unique ids, rules naming real questions, options for choice types), and answer
 * validation shared by autosave and submit. Pure functions: no database, no HTTP.
 */
import { Type, type Static } from 'typebox';
import type { FieldError } from '../errors.ts';

export const QUESTION_TYPES = ['text', 'longtext', 'number', 'single', 'multi', 'boolean', 'date'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
const CHOICE_TYPES: ReadonlySet<string> = new Set(['single', 'multi']);

/** Longest text answer we store (longtext); text is capped lower unless max says otherwise. */
export const MAX_TEXT_LENGTH = 10_000;
const DEFAULT_TEXT_MAX = 1_000;

// Rule values are typed by their question, so the shape accepts any JSON here and
// validateDefinition checks them; a type union would let ajv's coercion turn true into "true".
const Scalar = Type.Unsafe<string | number | boolean>({ description: 'a value of the question\'s type' });

export const Question = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$', description: 'Stable id; answers are keyed by it' }),
    type: Type.Union([Type.Literal('text'), Type.Literal('longtext'), Type.Literal('number'), Type.Literal('single'), Type.Literal('multi'), Type.Literal('boolean'), Type.Literal('date')]),
    label: Type.String({ minLength: 1, maxLength: 2000 }),
    help: Type.Optional(Type.String({ maxLength: 4000 })),
    required: Type.Optional(Type.Boolean()),
    options: Type.Optional(
      Type.Array(Type.Object({ value: Type.String({ minLength: 1, maxLength: 200 }), label: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }), {
        maxItems: 500,
      }),
    ),
    min: Type.Optional(Type.Number({ description: 'number: least value; text/longtext: least length; multi: fewest choices' })),
    max: Type.Optional(Type.Number({ description: 'number: greatest value; text/longtext: greatest length; multi: most choices' })),
  },
  { additionalProperties: false },
);
export type Question = Static<typeof Question>;

export const ScreeningRule = Type.Object(
  {
    when: Type.Object(
      {
        question: Type.String({ minLength: 1, maxLength: 64 }),
        equals: Type.Optional(Scalar),
        in: Type.Optional(Type.Array(Scalar, { minItems: 1, maxItems: 500 })),
        lt: Type.Optional(Type.Unsafe<number | string>({ description: 'a number, or a date YYYY-MM-DD' })),
        gt: Type.Optional(Type.Unsafe<number | string>({ description: 'a number, or a date YYYY-MM-DD' })),
      },
      { additionalProperties: false },
    ),
    outcome: Type.Union([Type.Literal('disqualified'), Type.Literal('quota_full')]),
    status: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
  },
  { additionalProperties: false },
);
export type ScreeningRule = Static<typeof ScreeningRule>;

export const Definition = Type.Object(
  {
    questions: Type.Array(Question, { maxItems: 500 }),
    screening: Type.Optional(Type.Array(ScreeningRule, { maxItems: 200 })),
    quota: Type.Optional(Type.Object({ maxCompletes: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })) }, { additionalProperties: false })),
    completion: Type.Optional(
      Type.Object(
        {
          message: Type.Optional(Type.String({ maxLength: 4000 })),
          redirectTimer: Type.Optional(Type.Integer({ minimum: -1, maximum: 3600, description: '0 button only, negative immediate, positive countdown seconds' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Definition = Static<typeof Definition>;

export type AnswerValue = string | number | boolean | string[];
export type Answers = Record<string, AnswerValue>;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export function isIsoDate(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const m = DATE.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Checks what the TypeBox shape cannot; every problem names its path inside the definition. */
export function validateDefinition(def: Definition): FieldError[] {
  const errors: FieldError[] = [];
  const byId = new Map<string, Question>();
  def.questions.forEach((q, i) => {
    const at = `/body/questions/${i}`;
    if (byId.has(q.id)) errors.push({ path: `${at}/id`, message: `duplicate question id "${q.id}"` });
    else byId.set(q.id, q);
    if (CHOICE_TYPES.has(q.type)) {
      if (!q.options || q.options.length === 0) errors.push({ path: `${at}/options`, message: `a ${q.type} question needs options` });
      const seen = new Set<string>();
      q.options?.forEach((o, j) => {
        if (seen.has(o.value)) errors.push({ path: `${at}/options/${j}/value`, message: `duplicate option value "${o.value}"` });
        seen.add(o.value);
      });
    } else if (q.options !== undefined) {
      errors.push({ path: `${at}/options`, message: `a ${q.type} question takes no options` });
    }
    if ((q.min !== undefined || q.max !== undefined) && (q.type === 'boolean' || q.type === 'single' || q.type === 'date')) {
      errors.push({ path: `${at}/${q.min !== undefined ? 'min' : 'max'}`, message: `min/max do not apply to ${q.type} questions` });
    }
    if (q.min !== undefined && q.max !== undefined && q.min > q.max) errors.push({ path: `${at}/min`, message: 'min is greater than max' });
    if (q.type !== 'number' && ((q.min !== undefined && (!Number.isInteger(q.min) || q.min < 0)) || (q.max !== undefined && (!Number.isInteger(q.max) || q.max < 0)))) {
      errors.push({ path: `${at}/${q.min !== undefined ? 'min' : 'max'}`, message: 'lengths and counts are whole numbers ≥ 0' });
    }
  });
  def.screening?.forEach((rule, i) => {
    const at = `/body/screening/${i}/when`;
    const q = byId.get(rule.when.question);
    const ops = (['equals', 'in', 'lt', 'gt'] as const).filter((k) => rule.when[k] !== undefined);
    if (ops.length !== 1) errors.push({ path: at, message: 'give exactly one of equals, in, lt, gt' });
    if (!q) {
      errors.push({ path: `${at}/question`, message: `unknown question id "${rule.when.question}"` });
      return;
    }
    if ((rule.when.lt !== undefined || rule.when.gt !== undefined)) {
      const bound = rule.when.lt ?? rule.when.gt;
      const ok = (q.type === 'number' && typeof bound === 'number') || (q.type === 'date' && isIsoDate(bound));
      if (!ok) errors.push({ path: `${at}/${rule.when.lt !== undefined ? 'lt' : 'gt'}`, message: 'lt/gt compare number questions with numbers and date questions with YYYY-MM-DD' });
    }
    const values = rule.when.equals !== undefined ? [rule.when.equals] : (rule.when.in ?? []);
    values.forEach((v) => {
      const problem = q.type === 'multi' ? (typeof v === 'string' && q.options?.some((o) => o.value === v) ? null : 'is not an option of the question') : checkAnswer(q, v);
      if (problem) errors.push({ path: `${at}/${rule.when.equals !== undefined ? 'equals' : 'in'}`, message: `${JSON.stringify(v)} ${problem}` });
    });
  });
  return errors;
}

/** Why `value` is not a valid answer to `q` (null when it is). `null` answers are handled by callers. */
export function checkAnswer(q: Question, value: unknown): string | null {
  switch (q.type) {
    case 'text':
    case 'longtext': {
      if (typeof value !== 'string') return 'must be text';
      const max = q.max ?? (q.type === 'text' ? DEFAULT_TEXT_MAX : MAX_TEXT_LENGTH);
      if (value.length > Math.min(max, MAX_TEXT_LENGTH)) return `must be at most ${Math.min(max, MAX_TEXT_LENGTH)} characters`;
      if (q.min !== undefined && value.length < q.min) return `must be at least ${q.min} characters`;
      return null;
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (q.min !== undefined && value < q.min) return `must be at least ${q.min}`;
      if (q.max !== undefined && value > q.max) return `must be at most ${q.max}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date':
      return isIsoDate(value) ? null : 'must be a date (YYYY-MM-DD)';
    case 'single':
      return typeof value === 'string' && q.options?.some((o) => o.value === value) ? null : 'must be one of the options';
    case 'multi': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && q.options?.some((o) => o.value === v))) return 'must be a list of the options';
      if (new Set(value).size !== value.length) return 'must not repeat an option';
      if (q.min !== undefined && value.length > 0 && value.length < q.min) return `choose at least ${q.min}`;
      if (q.max !== undefined && value.length > q.max) return `choose at most ${q.max}`;
      return null;
    }
  }
  return 'is not a known question type';
}

/** True when a required question counts as answered. */
export function isAnswered(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim().length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** The first screening rule the answers match, if any. Unanswered questions never match. */
export function matchScreening(def: Definition, answers: Record<string, unknown>): ScreeningRule | null {
  for (const rule of def.screening ?? []) {
    const v = answers[rule.when.question];
    if (v === undefined || v === null) continue;
    const w = rule.when;
    const hit = (candidate: unknown) => (Array.isArray(v) ? v.includes(candidate as string) : v === candidate);
    if (w.equals !== undefined && hit(w.equals)) return rule;
    if (w.in !== undefined && w.in.some(hit)) return rule;
    // Numbers compare as numbers, ISO dates as strings (lexical order is date order).
    if (w.lt !== undefined && typeof v === typeof w.lt && (v as number | string) < w.lt) return rule;
    if (w.gt !== undefined && typeof v === typeof w.gt && (v as number | string) > w.gt) return rule;
  }
  return null;
}

/** The part of a definition a respondent sees: no screening rules or quota (they would leak how to qualify). */
export function publicDefinition(def: Definition) {
  return { questions: def.questions, completion: def.completion ?? {} };
}
