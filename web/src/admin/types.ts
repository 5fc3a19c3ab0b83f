// The API's own types, imported as types only (nothing of the server reaches the bundle but
// the status catalogue, which is plain data).
import { STATUS_CATALOGUE as SERVER_CATALOGUE, type StatusName } from '../../../src/redirects/statusCodes.ts';
export type { StatusName };
export type { SurveyView as Survey, SurveyWritable } from '../../../src/surveys/settings.ts';
export const OUTCOMES = ['completed', 'disqualified', 'quota_full', 'exited'] as const;
export const OUTCOME_LABELS: Record<string, string> = { completed: 'Completed', disqualified: 'Disqualified', quota_full: 'Quota full', exited: 'Exited' };
export const REDIRECT_PARAMS = ['surveyId', 'entrySurveyId', 'userId', 'respondentId', 'mid', 'reward', 'rewardId', 'status', 'outcome'] as const;

export const LABELS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10'] as const;
export const RESPONDENT_STATUSES = ['created', 'started', 'completed', 'disqualified', 'quota_full', 'exited'] as const;

export type { RespondentView as Respondent } from '../../../src/respondents/service.ts';

export interface Job {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | string;
  phase: string | null;
  processed: number;
  total: number | null;
  errors: { line: number | null; column: string | null; code: string; message: string }[];
  result: Record<string, unknown> | null;
}

export type { EndpointView as Endpoint, EndpointWithSecret, DeliverySummary, DeliveryDetail, AttemptView as Attempt } from '../../../src/webhooks/schemas.ts';
// The event types an endpoint can subscribe to (ping is only sent by "Send test event").
export const WEBHOOK_EVENTS = [
  'respondent.created',
  'respondent.updated',
  'session.started',
  'record.inserted',
  'record.updated',
  'record.review_changed',
  'submission.completed',
  'session.disqualified',
  'session.quota_full',
  'session.exited',
] as const;

export type { Definition, Question, ScreeningRule } from '../../../src/runtime/definition.ts';
export const QUESTION_TYPES = ['text', 'longtext', 'number', 'single', 'multi', 'boolean', 'date'] as const;

/**
 * Panel mode: the termination status catalogue. The codes come from the server's own module
 * (src/redirects/statusCodes.ts: plain data, no imports, so it is safe in the bundle); the
 * console adds its wording.
 */
const STATUS_WORDING: Record<StatusName, string> = {
  missingSignature: 'Missing entry signature',
  invalidSignature: 'Invalid entry signature',
  surveyClosed: 'Survey closed',
  alreadyAttempted: 'Already attempted',
  banned: 'Banned (blocklist)',
  attemptsLimit: 'Attempts limit reached',
  completionsLimit: 'Completions limit reached',
  commonTermination: 'Common client termination',
  qualityTermination: 'Quality termination',
  quotaFull: 'Quota full',
  unexpectedError: 'Unexpected error',
  testTermination: 'Test termination',
  noReplacement: 'No replacement survey',
};
export const STATUS_CATALOGUE = Object.fromEntries(
  (Object.keys(SERVER_CATALOGUE) as StatusName[]).map((name) => [name, { code: SERVER_CATALOGUE[name].code, meaning: STATUS_WORDING[name] }]),
) as Record<StatusName, { code: number; meaning: string }>;
export const STATUS_NAMES = Object.keys(STATUS_CATALOGUE) as StatusName[];
/** The default status code of each outcome (what an empty "Status code" field means). */
export const OUTCOME_DEFAULT_STATUS: Record<string, number | null> = {
  completed: null,
  disqualified: STATUS_CATALOGUE.commonTermination.code,
  quota_full: STATUS_CATALOGUE.quotaFull.code,
  exited: STATUS_CATALOGUE.commonTermination.code,
};

/** Panel mode: an identifier the account refuses at entry (status 9). */
export type { BlockEntry } from '../../../src/redirects/blocklist.ts';
