/** The `standard` webhook payloads, as delivered by Surveybridge. */

export type EventType =
  | 'respondent.created'
  | 'respondent.updated'
  | 'session.started'
  | 'record.inserted'
  | 'record.updated'
  | 'record.review_changed'
  | 'submission.completed'
  | 'session.disqualified'
  | 'session.quota_full'
  | 'session.exited'
  | 'ping';

export interface EventEnvelope<T extends EventType, D> {
  /** Stable across retries and endpoints: the `webhook-id`. De-duplicate on it. */
  id: string;
  type: T;
  occurredAt: string;
  survey: { id: number; slug: string; name: string };
  respondent: { userId: number; username: string } | null;
  /** Panel mode: the survey the respondent entered through, present only when a replacement survey took them. */
  entrySurvey?: { id: number; slug: string; name: string };
  /** Present and true for test respondents. */
  test?: boolean;
  data: D;
}

export interface ReviewLevelRef {
  id: string;
  seq: number;
  name: string;
  lock: boolean;
}

export interface SubmissionData {
  recordId: number;
  outcome: 'completed' | 'disqualified' | 'quota_full' | 'exited';
  status?: number | null;
  /** Which attempt of the respondent this record is (1 unless the survey allows several). */
  attempt?: number;
  /** Panel mode: the reward the redirect carried, and its fresh id (null when none). */
  reward?: string | null;
  rewardId?: string | null;
  answers: Array<{ questionId: string; label?: string; value: unknown }> | Record<string, unknown>;
  redirectUrl?: string | null;
  [k: string]: unknown;
}

export type SurveybridgeEvent =
  | EventEnvelope<'respondent.created' | 'respondent.updated', Record<string, unknown>>
  | EventEnvelope<'session.started', Record<string, unknown>>
  | EventEnvelope<'record.inserted' | 'record.updated', { recordId: number; [k: string]: unknown }>
  | EventEnvelope<'record.review_changed', { recordId: number; from: ReviewLevelRef | null; to: ReviewLevelRef; lockBroken: boolean }>
  | EventEnvelope<'submission.completed', SubmissionData>
  | EventEnvelope<'session.disqualified' | 'session.quota_full' | 'session.exited', SubmissionData>
  | EventEnvelope<'ping', Record<string, unknown>>;
