/**
 * The survey settings form works on strings and booleans (what inputs hold); these convert a
 * survey to that draft and the draft back to a PATCH body holding only what changed.
 *
 * A changed record or list is sent whole (PATCH replaces it), so the draft carries every key it
 * was given, shown or not: `statusCodes` keeps catalogue names and unknown keys, `outcomeRewards`
 * keeps keys other than the four outcomes, and untouched values go back as they were saved.
 */
import { OUTCOMES, STATUS_NAMES, type Survey } from '../types.ts';
import type { ReviewLevelDraft } from './ReviewLevelsEditor.tsx';
import { num, panelBody, toPanelDraft, type PanelDraft } from './panelDraft.ts';

type PerOutcome = Record<string, string>;

export interface Draft extends PanelDraft {
  name: string;
  state: string;
  allowUserGeneration: boolean;
  jwtMaxAgeSeconds: string;
  requireSignedEntry: boolean;
  entryParams: string;
  outcomeUrls: PerOutcome;
  followUpUrl: string;
  allowedRedirectOrigins: string;
  redirectParams: string[];
  redirectIdentifier: string;
  outcomeRewards: PerOutcome;
  statusCodes: PerOutcome;
  submissionNotificationUrl: string;
  notificationIssuer: string;
  reviewLevels: ReviewLevelDraft[];
}

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const perOutcome = (f: (o: string) => unknown): PerOutcome => Object.fromEntries(OUTCOMES.map((o) => [o, text(f(o))]));
/** `first` keys (shown by the form) then every other key the survey has, each as a string. */
function allKeys(first: readonly string[], saved: Record<string, unknown> | undefined, f: (k: string) => unknown): PerOutcome {
  const keys = [...first, ...Object.keys(saved ?? {}).filter((k) => !first.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, text(f(k))]));
}

export function toDraft(s: Survey): Draft {
  return {
    name: s.name,
    state: s.state,
    allowUserGeneration: s.allowUserGeneration,
    jwtMaxAgeSeconds: s.jwtMaxAgeSeconds == null ? '' : String(s.jwtMaxAgeSeconds),
    requireSignedEntry: s.requireSignedEntry ?? false,
    entryParams: (s.entryParams ?? []).join(', '),
    outcomeUrls: perOutcome((o) => s.outcomeUrls?.[o as keyof NonNullable<Survey['outcomeUrls']>]),
    followUpUrl: s.followUpUrl ?? '',
    allowedRedirectOrigins: s.allowedRedirectOrigins.join('\n'),
    redirectParams: [...(s.redirectParams ?? [])],
    redirectIdentifier: s.redirectIdentifier ?? '',
    outcomeRewards: allKeys(OUTCOMES, s.outcomeRewards, (k) => s.outcomeRewards?.[k]?.reward),
    statusCodes: allKeys([...OUTCOMES, ...STATUS_NAMES], s.statusCodes, (k) => s.statusCodes?.[k]),
    submissionNotificationUrl: s.submissionNotificationUrl ?? '',
    notificationIssuer: s.notificationIssuer ?? '',
    reviewLevels: (s.reviewLevels ?? []).map((l) => ({ id: l.id, seq: String(l.seq), name: l.name, lock: l.lock, roles: [...l.roles] })),
    ...toPanelDraft(s),
  };
}

const urlOrNull = (v: string) => (v.trim() === '' ? null : v.trim());
const list = (v: string) => v.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

function body(d: Draft, saved: Survey): Record<string, unknown> {
  const rewards: Record<string, { reward: number | string }> = {};
  const codes: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(d.outcomeRewards)) {
    const before = saved.outcomeRewards?.[k]?.reward;
    // An untouched reward keeps its type ("0.50" stays a string).
    if (v.trim() !== '') rewards[k] = { reward: before !== undefined && String(before) === v ? before : num(v) };
  }
  for (const [k, v] of Object.entries(d.statusCodes)) if (v.trim() !== '') codes[k] = num(v);
  return {
    name: d.name,
    state: d.state,
    allowUserGeneration: d.allowUserGeneration,
    jwtMaxAgeSeconds: d.jwtMaxAgeSeconds.trim() === '' ? null : num(d.jwtMaxAgeSeconds),
    requireSignedEntry: d.requireSignedEntry,
    entryParams: list(d.entryParams),
    outcomeUrls: Object.fromEntries(OUTCOMES.map((o) => [o, urlOrNull(d.outcomeUrls[o])])),
    followUpUrl: urlOrNull(d.followUpUrl),
    allowedRedirectOrigins: list(d.allowedRedirectOrigins),
    redirectParams: d.redirectParams,
    // Not nullable in the API: an emptied field goes back to the default.
    redirectIdentifier: d.redirectIdentifier.trim() || 'username',
    outcomeRewards: rewards,
    statusCodes: codes,
    submissionNotificationUrl: urlOrNull(d.submissionNotificationUrl),
    notificationIssuer: d.notificationIssuer.trim() || 'surveybridge',
    reviewLevels: d.reviewLevels.map((l) => ({ id: l.id, seq: num(l.seq), name: l.name, lock: l.lock, roles: l.roles })),
    ...panelBody(d),
  };
}

/** The PATCH body: only the settings whose value differs from the saved survey. */
export function changes(saved: Survey, draft: Draft): Record<string, unknown> {
  const before = body(toDraft(saved), saved);
  const after = body(draft, saved);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(after)) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out[k] = after[k];
  return out;
}
