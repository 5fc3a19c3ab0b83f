/**
 * The survey settings form works on strings and booleans (what inputs hold); these convert a
 * survey to that draft and the draft back to a PATCH body holding only what changed.
 */
import { OUTCOMES, type Survey } from '../types.ts';
import type { ReviewLevelDraft } from './ReviewLevelsEditor.tsx';

type PerOutcome = Record<string, string>;

export interface Draft {
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

const perOutcome = (f: (o: string) => unknown): PerOutcome => Object.fromEntries(OUTCOMES.map((o) => [o, f(o) === undefined || f(o) === null ? '' : String(f(o))]));

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
    outcomeRewards: perOutcome((o) => s.outcomeRewards?.[o]?.reward),
    statusCodes: perOutcome((o) => s.statusCodes?.[o]),
    submissionNotificationUrl: s.submissionNotificationUrl ?? '',
    notificationIssuer: s.notificationIssuer ?? '',
    reviewLevels: (s.reviewLevels ?? []).map((l) => ({ id: l.id, seq: String(l.seq), name: l.name, lock: l.lock, roles: [...l.roles] })),
  };
}

const urlOrNull = (v: string) => (v.trim() === '' ? null : v.trim());
const list = (v: string) => v.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
// A number the API will check; anything else goes as typed so the API names the problem.
const num = (v: string): number | string => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);

function body(d: Draft): Record<string, unknown> {
  const rewards: Record<string, { reward: number | string }> = {};
  const codes: Record<string, number | string> = {};
  for (const o of OUTCOMES) {
    if (d.outcomeRewards[o].trim() !== '') rewards[o] = { reward: num(d.outcomeRewards[o]) };
    if (d.statusCodes[o].trim() !== '') codes[o] = num(d.statusCodes[o]);
  }
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
  };
}

/** The PATCH body: only the settings whose value differs from the saved survey. */
export function changes(saved: Survey, draft: Draft): Record<string, unknown> {
  const before = body(toDraft(saved));
  const after = body(draft);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(after)) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out[k] = after[k];
  return out;
}
