/**
 * The per-survey rewards export: every record with an outcome, with the reward and rewardId
 * given on its redirect, so a panel can reconcile. `entry_survey` is the survey the respondent
 * entered through (another one when a replacement survey took them); columns added later go
 * at the end, so consumers reading by position keep working. Streamed in keyset batches; cells a
 * partner controls (username) are neutralised against formula injection.
 */
import { Readable } from 'node:stream';
import { and, asc, eq, gt, gte, isNotNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { records, respondents, surveys } from '../db/schema/index.ts';
import { csvRow } from '../lib/csv.ts';

export const REWARD_COLUMNS = ['record_id', 'user_id', 'username', 'outcome', 'status', 'reward', 'reward_id', 'test', 'submitted_at', 'attempt', 'entry_survey'];
/** Written as they are: ids, our own words, numbers, UUIDs and timestamps. */
const PLAIN = new Set([0, 1, 3, 4, 6, 7, 8, 9]);
const BATCH = 1000;

export interface RewardsFilter {
  /** Outcomes submitted at or after this instant. */
  since?: Date;
  /** Outcomes submitted before this instant. */
  until?: Date;
  /** Only outcomes that carried a reward. */
  rewarded?: boolean;
}

export function rewardsCsv(db: Db, survey: { id: number; slug: string }, filter: RewardsFilter = {}): Readable {
  const surveyId = survey.id;
  return Readable.from((async function* () {
    yield csvRow(REWARD_COLUMNS, new Set(REWARD_COLUMNS.map((_, i) => i)));
    let after = 0;
    for (;;) {
      const rows = await db
        .select({
          id: records.id, userId: respondents.id, username: respondents.username, outcome: records.outcome, status: records.statusCode,
          reward: records.reward, rewardId: records.rewardId, test: respondents.test, submittedAt: records.submittedAt,
          attempt: records.attempt, entrySurvey: sql<string | null>`(SELECT s.slug FROM ${surveys} s WHERE s.id = ${respondents.entrySurveyId})`,
        })
        .from(records)
        .innerJoin(respondents, eq(respondents.id, records.respondentId))
        .where(and(
          eq(records.surveyId, surveyId), isNotNull(records.outcome), gt(records.id, after),
          filter.since ? gte(records.submittedAt, filter.since) : undefined,
          filter.until ? lt(records.submittedAt, filter.until) : undefined,
          filter.rewarded ? isNotNull(records.reward) : undefined,
        ))
        .orderBy(asc(records.id))
        .limit(BATCH);
      if (rows.length === 0) return;
      let out = '';
      for (const r of rows) {
        out += csvRow([r.id, r.userId, r.username, r.outcome, r.status, r.reward, r.rewardId, r.test ? 'true' : 'false', r.submittedAt?.toISOString() ?? null, r.attempt, r.entrySurvey ?? survey.slug], PLAIN);
      }
      yield out;
      after = rows[rows.length - 1].id;
      if (rows.length < BATCH) return;
    }
  })());
}
