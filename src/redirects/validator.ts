/**
 * Checks a survey's redirect settings when they are saved, so a bad template fails at the
 * admin's PATCH (400 naming the problem) instead of at a respondent's redirect.
 * Registered with `services.surveys.addValidator` by the redirects service.
 */
import { AppError, type FieldError } from '../errors.ts';
import type { SurveyView } from '../surveys/settings.ts';
import { OUTCOME_NAMES } from '../surveys/settings.ts';
import { ARG_NAME, parseTemplate } from './template.ts';

/** Field errors of one redirect target template; `kind` tells which error code applies. */
export function checkRedirectTemplate(url: string, allowedOrigins: string[], entryParams: readonly string[] | undefined): { message: string; kind: 'placeholder' | 'origin' | 'other' }[] {
  const parsed = parseTemplate(url);
  const out: { message: string; kind: 'placeholder' | 'origin' | 'other' }[] = parsed.errors.map((message) => ({
    message,
    kind: message.startsWith('unknown placeholder') ? 'placeholder' : 'other',
  }));
  for (const name of parsed.entryParams) {
    if (!entryParams?.includes(name)) {
      out.push({ kind: 'placeholder', message: `unknown placeholder {entry:${name}}: "${name}" is not in the survey's entryParams` });
    }
  }
  if (parsed.queryNames.includes('hash')) out.push({ kind: 'other', message: 'must not have its own "hash" parameter (reserved for the link signature)' });
  if (parsed.errors.length === 0 && allowedOrigins.length > 0) {
    const origin = new URL(parsed.tokens.map((t) => (t.kind === 'literal' ? t.text : 'x')).join('')).origin;
    if (!allowedOrigins.includes(origin)) out.push({ kind: 'origin', message: `${origin} is not in allowedRedirectOrigins` });
  }
  return out;
}

export function validateRedirectSettings(view: SurveyView): FieldError[] {
  const targets: [string, string][] = [];
  for (const outcome of OUTCOME_NAMES) {
    const url = view.outcomeUrls?.[outcome];
    if (url) targets.push([`outcomeUrls/${outcome}`, url]);
  }
  if (view.followUpUrl) targets.push(['followUpUrl', view.followUpUrl]);

  const found: (FieldError & { kind: string })[] = [];
  for (const [path, url] of targets) {
    for (const e of checkRedirectTemplate(url, view.allowedRedirectOrigins ?? [], view.entryParams)) found.push({ path, message: e.message, kind: e.kind });
  }
  const identifier = view.redirectIdentifier;
  if (identifier !== undefined && !['userId', 'username', 'authToken'].includes(identifier) && !ARG_NAME.test(identifier)) {
    found.push({ path: 'redirectIdentifier', message: 'must be userId, username, authToken or a custom field name (A-Za-z0-9_.-)', kind: 'other' });
  }
  if (view.requireSignedEntry === true && !view.linkSigningSecretSet) {
    found.push({ path: 'requireSignedEntry', message: 'needs linkSigningSecret (entry links are verified with it)', kind: 'other' });
  }
  const fields = found.map(({ path, message }) => ({ path, message }));
  const message = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
  // The dedicated codes let clients tell a typo in a placeholder from a forbidden destination.
  if (found.some((f) => f.kind === 'placeholder')) throw new AppError('UNKNOWN_PLACEHOLDER', message, { fields });
  if (found.some((f) => f.kind === 'origin')) throw new AppError('REDIRECT_NOT_ALLOWED', message, { fields });
  return fields;
}

/**
 * For other domains that accept a respondent's own redirect URL (CSV, JWT claim, admin API,
 * inbound webhook): null when usable, else why not. Unknown placeholders are left for the
 * redirect to skip, but scheme and origin are checked here so the setter hears about them.
 */
export function respondentRedirectProblem(url: string, allowedOrigins: string[]): string | null {
  const problems = checkRedirectTemplate(url.replace(/#.*$/s, ''), allowedOrigins, undefined).filter((p) => p.kind !== 'placeholder');
  return problems.length > 0 ? problems.map((p) => p.message).join('; ') : null;
}
