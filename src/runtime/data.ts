/**
 * Shapes shared by the runtime's events, record views and exports: answers with their
 * question labels, and the submission body that `submission.completed` (and the other
 * outcome events) carry for webhook formats to build on.
 */
import type { recordHistory, records, respondents, surveys } from '../db/schema/index.ts';
import type { RespondentRef } from '../events/outbox.ts';
import type { Definition } from './definition.ts';

export type RecordRow = typeof records.$inferSelect;
export type RespondentRow = typeof respondents.$inferSelect;
export type SurveyRow = typeof surveys.$inferSelect;
export type HistoryRow = typeof recordHistory.$inferSelect;

export const LABEL_KEYS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10'] as const;

export function eventRespondent(r: RespondentRow): RespondentRef {
  return { userId: r.id, username: r.username, test: r.test, entrySurveyId: r.entrySurveyId };
}

export interface LabelledAnswer {
  questionId: string;
  label: string;
  type: string;
  value: unknown;
}

/**
 * Answers in question order, with labels from the version the record was answered on.
 * Answers to questions that version does not have (none today, but data outlives code)
 * follow, labelled with their id, so nothing stored is ever hidden.
 */
export function labelledAnswers(def: Definition | null, answers: Record<string, unknown>): LabelledAnswer[] {
  const out: LabelledAnswer[] = [];
  const seen = new Set<string>();
  for (const q of def?.questions ?? []) {
    seen.add(q.id);
    if (answers[q.id] !== undefined) out.push({ questionId: q.id, label: q.label, type: q.type, value: answers[q.id] });
  }
  for (const [id, value] of Object.entries(answers)) if (!seen.has(id)) out.push({ questionId: id, label: id, type: 'unknown', value });
  return out;
}

export function labelsOf(r: RespondentRow): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of LABEL_KEYS) out[k] = r[k];
  return out;
}

/** The whole submission, as events carry it. */
export function submissionData(def: Definition | null, record: RecordRow, respondent: RespondentRow): Record<string, unknown> {
  return {
    recordId: record.id,
    attempt: record.attempt,
    definitionVersion: record.definitionVersion,
    outcome: record.outcome,
    status: record.statusCode,
    // Panel mode: what the redirect paid, so the partner can reconcile on rewardId.
    reward: record.reward,
    rewardId: record.rewardId,
    answers: labelledAnswers(def, record.answers),
    startedAt: (respondent.startedAt ?? record.createdAt).toISOString(),
    createdAt: record.createdAt.toISOString(),
    submittedAt: record.submittedAt?.toISOString() ?? null,
    labels: labelsOf(respondent),
    customFields: respondent.customFields,
    redirectUrl: record.redirectUrl,
  };
}

export function recordView(record: RecordRow, username: string) {
  return {
    id: record.id,
    respondent: { userId: record.respondentId, username },
    attempt: record.attempt,
    definitionVersion: record.definitionVersion,
    answers: record.answers,
    outcome: record.outcome,
    status: record.statusCode,
    reviewLevel: record.reviewLevel,
    locked: record.locked,
    redirectUrl: record.redirectUrl,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    submittedAt: record.submittedAt?.toISOString() ?? null,
  };
}
