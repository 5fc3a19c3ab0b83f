/**
 * The parameters of an inbound webhook call, as Webankieta callers send them: in the query
 * string, a form-urlencoded body or a JSON body, all at once if they like. Pure functions (no
 * database), so the property tests can hammer them.
 *
 * Rules:
 * - a parameter's value is a string; JSON numbers and booleans become their text, JSON `null`
 *   means "empty" (it clears a label, like `l1=`); objects and arrays are refused;
 * - a parameter given twice in the same source (`l1=a&l1=b`) is refused: which one was meant?
 * - the body wins over the query string for the same name;
 * - names are exact (`L1` is not `l1`), and a name the webhook does not know is refused, so a
 *   typo never silently does nothing.
 */
import { AppError } from '../errors.ts';
import { LABELS, LIMITS, charLength, checkEmail, checkRedirectUrl, checkText, checkUsername, type Label } from '../respondents/fields.ts';

/** Merged parameters: name → value (null = given empty by JSON null). */
export type Params = Map<string, string | null>;

export const WEBHOOK_NAMES = ['update-respondent', 'add-respondent'] as const;
export type WebhookName = (typeof WEBHOOK_NAMES)[number];

const MAX_PARAMS = 100;
const MAX_NAME_CHARS = 100;
const LONE_SURROGATE = /\p{Cs}/u;

/** A 400 naming the parameter first, in the inbound shape's `msg`. */
export function paramError(param: string, reason: string): AppError {
  const shown = param.length > MAX_NAME_CHARS ? `${param.slice(0, MAX_NAME_CHARS)}…` : param;
  return new AppError('VALIDATION_FAILED', `${shown} ${reason}`, { fields: [{ path: `/params/${shown}`, message: reason }] });
}

function fromSource(source: unknown, where: 'query' | 'body'): Params {
  const out: Params = new Map();
  if (source === undefined || source === null || source === '') return out;
  if (typeof source !== 'object' || Array.isArray(source)) {
    throw new AppError('VALIDATION_FAILED', `the ${where} must be an object of parameters`, { fields: [{ path: `/${where}`, message: 'must be an object' }] });
  }
  const entries = Object.entries(source as Record<string, unknown>);
  if (entries.length > MAX_PARAMS) {
    throw new AppError('VALIDATION_FAILED', `the ${where} has more than ${MAX_PARAMS} parameters`, { fields: [{ path: `/${where}`, message: 'too many parameters' }] });
  }
  for (const [name, raw] of entries) {
    const v = raw;
    // Query strings and form bodies give a list for a repeated name.
    if (Array.isArray(v) && v.length > 1 && v.every((x) => typeof x === 'string')) throw paramError(name, 'is given more than once');
    if (v === null) out.set(name, null);
    else if (typeof v === 'string') {
      // PostgreSQL text cannot hold U+0000: refuse it here rather than fail in the database.
      if (v.includes('\u0000')) throw paramError(name, 'must not contain NUL characters');
      // A lone surrogate would be stored as U+FFFD: the caller could never find that value again.
      if (LONE_SURROGATE.test(v)) throw paramError(name, 'must be valid Unicode text');
      out.set(name, v);
    } else if (typeof v === 'number' && Number.isFinite(v)) out.set(name, String(v));
    else if (typeof v === 'boolean') out.set(name, String(v));
    else throw paramError(name, 'must be a string or a number');
  }
  return out;
}

/** Query and body merged, the body winning for a name given in both. */
export function mergeParams(query: unknown, body: unknown): Params {
  const merged = fromSource(query, 'query');
  for (const [k, v] of fromSource(body, 'body')) merged.set(k, v);
  return merged;
}

export interface UpdateRespondentInput {
  surveyRef: string;
  respondentId?: number;
  username?: string;
  labels: Partial<Record<Label, string | null>>;
  /** undefined: unchanged; null: cleared. */
  redirectUrl?: string | null;
}

export interface AddRespondentInput {
  surveyRef: string;
  username: string;
  email?: string;
  /** null = given empty: nothing on a new respondent, cleared on an existing one (on_existing=update). */
  labels: Partial<Record<Label, string | null>>;
  redirectUrl?: string | null;
  onExisting: 'error' | 'update';
}

const COMMON = ['id_survey', 'redirect_url', ...LABELS];
const ALLOWED: Record<WebhookName, Set<string>> = {
  'update-respondent': new Set([...COMMON, 'id_respondent', 'username']),
  'add-respondent': new Set([...COMMON, 'username', 'email', 'on_existing']),
};

function checkNames(params: Params, name: WebhookName) {
  for (const k of params.keys()) {
    if (ALLOWED[name].has(k)) continue;
    if (/^l\d+$/.test(k)) throw paramError(k, `is not a label (labels are ${LABELS[0]}…${LABELS[LABELS.length - 1]})`);
    throw paramError(k, `is not a parameter of ${name}`);
  }
}

/** A non-empty value, or undefined when absent or empty. */
function present(params: Params, k: string): string | undefined {
  const v = params.get(k);
  return v === undefined || v === null || v === '' ? undefined : v;
}

function surveyRefOf(params: Params): string {
  const v = present(params, 'id_survey');
  if (v === undefined) throw paramError('id_survey', 'is required (the survey id or slug)');
  if (charLength(v) > 64 || !/^[A-Za-z0-9-]+$/.test(v)) throw paramError('id_survey', 'must be a survey id or slug');
  return v;
}

function labelsOf(params: Params): Partial<Record<Label, string | null>> {
  const out: Partial<Record<Label, string | null>> = {};
  for (const l of LABELS) {
    if (!params.has(l)) continue;
    const v = params.get(l) ?? null;
    if (v === null || v === '') {
      out[l] = null; // an empty value clears the label
      continue;
    }
    const bad = checkText(v, LIMITS.label);
    if (bad) throw paramError(l, bad);
    out[l] = v;
  }
  return out;
}

/** Shape only (http(s), length); the survey's allowed origins are checked once it is known. */
function redirectOf(params: Params): string | null | undefined {
  if (!params.has('redirect_url')) return undefined;
  const v = present(params, 'redirect_url');
  if (v === undefined) return null;
  const bad = checkRedirectUrl(v);
  if (bad) throw paramError('redirect_url', bad);
  return v;
}

export function checkRedirectOrigin(url: string | null | undefined, allowedOrigins: readonly string[]) {
  if (typeof url !== 'string') return;
  const bad = checkRedirectUrl(url, allowedOrigins);
  if (bad) throw paramError('redirect_url', bad);
}

function usernameOf(params: Params): string | undefined {
  const v = present(params, 'username');
  if (v === undefined) return undefined;
  const bad = checkUsername(v);
  if (bad) throw paramError('username', bad);
  return v;
}

export function readUpdateRespondent(params: Params): UpdateRespondentInput {
  checkNames(params, 'update-respondent');
  const surveyRef = surveyRefOf(params);
  const rawId = present(params, 'id_respondent');
  let respondentId: number | undefined;
  if (rawId !== undefined) {
    if (!/^[0-9]{1,10}$/.test(rawId) || Number(rawId) < 1 || Number(rawId) > 2_147_483_647) {
      throw paramError('id_respondent', 'must be a respondent id (a positive integer)');
    }
    respondentId = Number(rawId);
  }
  const username = usernameOf(params);
  if (respondentId === undefined && username === undefined) throw paramError('id_respondent', 'is required (or username)');
  const input: UpdateRespondentInput = { surveyRef, labels: labelsOf(params) };
  if (respondentId !== undefined) input.respondentId = respondentId;
  if (username !== undefined) input.username = username;
  const redirectUrl = redirectOf(params);
  if (redirectUrl !== undefined) input.redirectUrl = redirectUrl;
  return input;
}

export function readAddRespondent(params: Params): AddRespondentInput {
  checkNames(params, 'add-respondent');
  const surveyRef = surveyRefOf(params);
  const email = present(params, 'email');
  if (email !== undefined) {
    const bad = checkEmail(email);
    if (bad) throw paramError('email', bad);
  }
  const username = usernameOf(params) ?? email;
  if (username === undefined) throw paramError('username', 'is required (or email)');
  if (email !== undefined && username === email) {
    const bad = checkUsername(email);
    if (bad) throw paramError('email', bad);
  }
  const onExisting = present(params, 'on_existing') ?? 'error';
  if (onExisting !== 'error' && onExisting !== 'update') throw paramError('on_existing', 'must be "error" or "update"');
  const input: AddRespondentInput = { surveyRef, username, labels: labelsOf(params), onExisting };
  if (email !== undefined) input.email = email;
  const redirectUrl = redirectOf(params);
  if (redirectUrl !== undefined) input.redirectUrl = redirectUrl;
  return input;
}
