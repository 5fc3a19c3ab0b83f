// The API's own types, imported as types only (nothing of the server reaches the bundle).
import type { StatusName } from '../../../src/redirects/statusCodes.ts';
export type { StatusName };
export type { SurveyView as Survey, SurveyWritable } from '../../../src/surveys/settings.ts';
export const OUTCOMES = ['completed', 'disqualified', 'quota_full', 'exited'] as const;
export const OUTCOME_LABELS: Record<string, string> = { completed: 'Completed', disqualified: 'Disqualified', quota_full: 'Quota full', exited: 'Exited' };
export const REDIRECT_PARAMS = ['surveyId', 'entrySurveyId', 'userId', 'respondentId', 'mid', 'reward', 'rewardId', 'status', 'outcome'] as const;

export const LABELS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10'] as const;
export const RESPONDENT_STATUSES = ['created', 'started', 'completed', 'disqualified', 'quota_full', 'exited'] as const;

export interface Respondent {
  userId: number;
  username: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  redirectUrl: string | null;
  l1: string | null; l2: string | null; l3: string | null; l4: string | null; l5: string | null;
  l6: string | null; l7: string | null; l8: string | null; l9: string | null; l10: string | null;
  customFields: Record<string, string>;
  status: string;
  createdVia: string;
  hasPassword: boolean;
  test: boolean;
  /** Slug of the survey they came in through; another one when a replacement survey took them. */
  entrySurvey: string | null;
  createdAt: string;
  updatedAt: string;
  authToken?: string;
  authUrl?: string;
  shortAuthUrl?: string;
}

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
 * Panel mode: the termination status catalogue (src/redirects/statusCodes.ts), repeated here so
 * the server's module stays out of the bundle; `satisfies` makes tsc fail if the two drift apart.
 */
export const STATUS_CATALOGUE = {
  missingSignature: { code: 1, meaning: 'Missing entry signature' },
  invalidSignature: { code: 2, meaning: 'Invalid entry signature' },
  surveyClosed: { code: 6, meaning: 'Survey closed' },
  alreadyAttempted: { code: 7, meaning: 'Already attempted' },
  banned: { code: 9, meaning: 'Banned (blocklist)' },
  attemptsLimit: { code: 10, meaning: 'Attempts limit reached' },
  completionsLimit: { code: 11, meaning: 'Completions limit reached' },
  commonTermination: { code: 13, meaning: 'Common client termination' },
  qualityTermination: { code: 14, meaning: 'Quality termination' },
  quotaFull: { code: 15, meaning: 'Quota full' },
  unexpectedError: { code: 16, meaning: 'Unexpected error' },
  testTermination: { code: 18, meaning: 'Test termination' },
  noReplacement: { code: 19, meaning: 'No replacement survey' },
} as const satisfies Record<StatusName, { code: number; meaning: string }>;
export const STATUS_NAMES = Object.keys(STATUS_CATALOGUE) as StatusName[];
/** The default status code of each outcome (what an empty "Status code" field means). */
export const OUTCOME_DEFAULT_STATUS: Record<string, number | null> = {
  completed: null,
  disqualified: STATUS_CATALOGUE.commonTermination.code,
  quota_full: STATUS_CATALOGUE.quotaFull.code,
  exited: STATUS_CATALOGUE.commonTermination.code,
};

/** Panel mode: an identifier the account refuses at entry (status 9). */
export interface BlockEntry {
  identifier: string;
  reason: string | null;
  createdAt: string;
}
