/**
 * Where a respondent goes after an outcome, as a pure function of the survey's settings, the
 * respondent and the outcome: precedence of targets, placeholders, appended parameters
 * (inBrain's names) and the signature. No I/O, so every rule is unit-testable.
 */
import { parseTemplate, renderTokens, strictEncode } from './template.ts';
import { signUrl } from './signing.ts';
import { outcomeStatusCode } from './statusCodes.ts';


export type RedirectTarget = 'respondent' | 'outcomeUrl' | 'followUpUrl' | 'builtin';

/** What of a survey the computation reads (a SurveyRow has all of it). */
export interface RedirectSurvey {
  id: number;
  slug: string;
  followUpUrl: string | null;
  allowedRedirectOrigins: string[];
  settings: Record<string, unknown>;
}

/** What of a respondent the computation reads (a RespondentRow has all of it). */
export interface RedirectRespondent {
  id: number;
  username: string;
  redirectUrl: string | null;
  customFields: Record<string, string>;
  entryParams: Record<string, string>;
  l1?: string | null; l2?: string | null; l3?: string | null; l4?: string | null; l5?: string | null;
  l6?: string | null; l7?: string | null; l8?: string | null; l9?: string | null; l10?: string | null;
}

export interface RedirectInput {
  survey: RedirectSurvey;
  respondent: RedirectRespondent;
  outcome: string;
  statusCode: number | null;
  reward: string | null;
  rewardId: string | null;
  /** Slug of the survey the respondent entered through (inBrain's entrySurveyId). */
  entrySurveySlug: string;
  /** The survey's link signing secret, or null (unsigned). */
  secret: string | null;
  /** The respondent's auth token, read only when `redirectIdentifier` is "authToken". */
  authToken?: () => string | null;
  /** Only these targets are considered (entry failures use the failure URL alone). */
  only?: RedirectTarget[];
}

export interface RedirectResult {
  url: string | null;
  target: RedirectTarget;
  /** Targets passed over, with why (a respondent URL outside allowedRedirectOrigins, …). */
  skipped: { target: RedirectTarget; reason: string }[];
}

type Settings = {
  outcomeUrls?: Record<string, string | null | undefined>;
  redirectParams?: string[];
  redirectIdentifier?: string;
  outcomeRewards?: Record<string, { reward: number | string }>;
  statusCodes?: Record<string, number>;
};

export function statusCodeFor(settings: Record<string, unknown>, outcome: string): number | null {
  return outcomeStatusCode(settings, outcome);
}

/** The outcome's reward, else (partial rewards) the one keyed by its status code, e.g. `"13"`. */
export function rewardFor(settings: Record<string, unknown>, outcome: string, statusCode: number | null = null): string | null {
  const rewards = (settings as Settings).outcomeRewards;
  const r = rewards?.[outcome]?.reward ?? (statusCode === null ? undefined : rewards?.[String(statusCode)]?.reward);
  return r === undefined || r === null ? null : String(r);
}

/** The candidate targets of an outcome, first that is set wins. */
export function candidates(survey: RedirectSurvey, respondent: RedirectRespondent, outcome: string): { target: RedirectTarget; url: string | null | undefined }[] {
  const outcomeUrl = (survey.settings as Settings).outcomeUrls?.[outcome];
  const own = { target: 'respondent' as const, url: respondent.redirectUrl };
  const configured = { target: 'outcomeUrl' as const, url: outcomeUrl };
  const followUp = { target: 'followUpUrl' as const, url: survey.followUpUrl };
  // A completion honours the respondent's own URL first; a screen-out never bypasses a configured failure URL.
  return outcome === 'completed' ? [own, configured, followUp] : [configured, own, followUp];
}

/** Whether `origin` may receive respondents (every origin when the list is empty). */
export function originAllowed(allowed: string[], url: URL): boolean {
  return allowed.length === 0 || allowed.includes(url.origin);
}

export function computeRedirect(input: RedirectInput): RedirectResult {
  const { survey, respondent, outcome } = input;
  const skipped: RedirectResult['skipped'] = [];
  for (const c of candidates(survey, respondent, outcome)) {
    if (!c.url || (input.only && !input.only.includes(c.target))) continue;
    // A respondent's own URL (from a CSV, a JWT, …) may carry a fragment; the server never sees it, so it goes.
    const parsed = parseTemplate(c.target === 'respondent' ? c.url.replace(/#.*$/s, '') : c.url);
    if (parsed.errors.length > 0) {
      skipped.push({ target: c.target, reason: parsed.errors.join('; ') });
      continue;
    }
    const rendered = renderTokens(parsed.tokens, (key) => placeholderValue(input, key));
    let url: URL;
    try {
      url = new URL(rendered);
    } catch {
      skipped.push({ target: c.target, reason: 'does not render to a valid URL' });
      continue;
    }
    if (!originAllowed(survey.allowedRedirectOrigins, url)) {
      skipped.push({ target: c.target, reason: `${url.origin} is not in allowedRedirectOrigins` });
      continue;
    }
    // The canonical form is what browsers would make of it anyway, so the signed string is what arrives.
    let out = url.href.replace(/#.*$/, '');
    const appended = appendedParams(input, c.target, parsed.queryNames);
    if (appended.length > 0) {
      const pairs = appended.map(([k, v]) => `${k}=${strictEncode(v)}`).join('&');
      const base = out.replace(/[?&]+$/, '');
      out = `${base}${base.includes('?') ? '&' : '?'}${pairs}`;
    }
    if (input.secret) out = signUrl(out, input.secret);
    return { url: out, target: c.target, skipped };
  }
  return { url: null, target: 'builtin', skipped };
}

function placeholderValue(input: RedirectInput, key: string): string | null {
  const { respondent: r, survey } = input;
  switch (key) {
    case 'username':
      return r.username;
    case 'respondentId':
      return r.id ? String(r.id) : '';
    case 'identifier':
      return identifierValue(input);
    case 'survey':
      return survey.slug;
    case 'outcome':
      return input.outcome;
    case 'status':
      return input.statusCode === null ? null : String(input.statusCode);
    case 'reward':
      return input.reward;
    case 'rewardId':
      return input.rewardId;
  }
  if (/^l([1-9]|10)$/.test(key)) return (r as unknown as Record<string, string | null | undefined>)[key] ?? null;
  if (key.startsWith('custom:')) return r.customFields?.[key.slice(7)] ?? null;
  if (key.startsWith('entry:')) return r.entryParams?.[key.slice(6)] ?? null;
  return null;
}

function identifierValue(input: RedirectInput): string | null {
  const which = (input.survey.settings as Settings).redirectIdentifier ?? 'username';
  const r = input.respondent;
  if (which === 'username') return r.username;
  if (which === 'userId') return r.id ? String(r.id) : '';
  if (which === 'authToken') return input.authToken?.() ?? null;
  return r.customFields?.[which] ?? null;
}

/** The `redirectParams` to append, in configured order, values present only; then the automatic ones. */
function appendedParams(input: RedirectInput, target: RedirectTarget, templateNames: string[]): [string, string][] {
  const { survey, respondent, outcome } = input;
  const names = [...((survey.settings as Settings).redirectParams ?? [])];
  // Without a URL of its own, a screen-out still tells the third party what happened.
  if (outcome !== 'completed' && target !== 'outcomeUrl' && !names.includes('outcome') && !templateNames.includes('outcome')) names.push('outcome');
  if (input.statusCode !== null && !names.includes('status') && !templateNames.includes('status')) names.push('status');
  const values: Record<string, string | null | undefined> = {
    surveyId: survey.slug,
    entrySurveyId: input.entrySurveySlug,
    userId: respondent.username,
    respondentId: respondent.id ? String(respondent.id) : null,
    mid: respondent.entryParams?.mid,
    reward: input.reward,
    rewardId: input.rewardId,
    status: input.statusCode === null ? null : String(input.statusCode),
    outcome,
  };
  const out: [string, string][] = [];
  for (const n of names) {
    const v = values[n];
    if (v !== null && v !== undefined && v !== '') out.push([n, v]);
  }
  return out;
}
