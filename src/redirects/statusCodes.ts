/**
 * The one catalogue of termination status codes (inBrain's 1–19 meanings). Every place that
 * puts a `status` on a redirect, an error or a record reads it from here; a survey may
 * override any code through its `statusCodes` setting, keyed by outcome (`disqualified`,
 * `quota_full`, `exited`, `completed`) or by the catalogue name below (`surveyClosed`, …).
 */

export const STATUS_CATALOGUE = {
  missingSignature: { code: 1, meaning: 'missing entry signature' },
  invalidSignature: { code: 2, meaning: 'invalid entry signature' },
  surveyClosed: { code: 6, meaning: 'survey closed' },
  alreadyAttempted: { code: 7, meaning: 'already attempted' },
  banned: { code: 9, meaning: 'banned' },
  attemptsLimit: { code: 10, meaning: 'attempts limit reached' },
  completionsLimit: { code: 11, meaning: 'completions limit reached' },
  commonTermination: { code: 13, meaning: 'common client termination' },
  qualityTermination: { code: 14, meaning: 'quality termination' },
  quotaFull: { code: 15, meaning: 'quota full' },
  unexpectedError: { code: 16, meaning: 'unexpected error' },
  testTermination: { code: 18, meaning: 'test termination' },
  noReplacement: { code: 19, meaning: 'no replacement survey' },
} as const;

export type StatusName = keyof typeof STATUS_CATALOGUE;

/** The default code of each runtime outcome (null: none appended). */
export const OUTCOME_STATUS: Readonly<Record<string, StatusName | null>> = {
  completed: null,
  disqualified: 'commonTermination',
  quota_full: 'quotaFull',
  exited: 'commonTermination',
};

type WithCodes = { statusCodes?: Record<string, number> } | Record<string, unknown>;

function override(settings: WithCodes | undefined, key: string): number | undefined {
  const codes = (settings as { statusCodes?: Record<string, unknown> } | undefined)?.statusCodes;
  const v = codes?.[key];
  return typeof v === 'number' ? v : undefined;
}

/** The code of a named termination for a survey (its `statusCodes` override, else inBrain's). */
export function statusCode(settings: WithCodes | undefined, name: StatusName): number {
  return override(settings, name) ?? STATUS_CATALOGUE[name].code;
}

/** The code of a runtime outcome for a survey: `statusCodes[outcome]`, else the catalogue default. */
export function outcomeStatusCode(settings: WithCodes | undefined, outcome: string): number | null {
  const configured = override(settings, outcome);
  if (configured !== undefined) return configured;
  const name = OUTCOME_STATUS[outcome];
  return name ? statusCode(settings, name) : null;
}
