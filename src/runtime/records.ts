/**
 * Records for admins: lists with filters, one record with labelled answers and its history,
 * review levels (TrialKit's workflow: a level may lock the record against respondent edits;
 * moving to a level that does not lock breaks the lock), and streamed submission exports.
 */
import { and, asc, desc, eq, gt, isNotNull, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { recordHistory, records, respondents, type Outcome, type Role } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { emitEvent } from '../events/outbox.ts';
import { decodeCursor, page } from '../lib/pagination.ts';
import { surveyRef } from '../surveys/service.ts';
import type { Definition } from './definition.ts';
import { eventRespondent, labelledAnswers, recordView, type SurveyRow } from './data.ts';
import type { RuntimeService } from './service.ts';

export interface ReviewLevelSetting {
  id: string;
  seq: number;
  name: string;
  lock: boolean;
  roles: Role[];
}
export type LevelRef = { id: string; seq: number; name: string; lock: boolean };

export interface RecordFilter {
  status?: 'in_progress' | 'finished';
  outcome?: Outcome;
  /** A level id, or "none" for records never reviewed. */
  reviewLevel?: string;
  /** Only test respondents' records (true) or only real ones (false). */
  test?: boolean;
}

const levelRef = (l: ReviewLevelSetting): LevelRef => ({ id: l.id, seq: l.seq, name: l.name, lock: l.lock });

export class RecordsService {
  constructor(private readonly db: Db, private readonly schemaName: string, private readonly runtime: RuntimeService) {}

  private where(surveyId: number, f: RecordFilter) {
    return and(
      eq(records.surveyId, surveyId),
      f.status === 'in_progress' ? isNull(records.outcome) : f.status === 'finished' ? isNotNull(records.outcome) : undefined,
      f.outcome ? eq(records.outcome, f.outcome) : undefined,
      f.reviewLevel === 'none' ? isNull(records.reviewLevel) : f.reviewLevel ? eq(records.reviewLevel, f.reviewLevel) : undefined,
      f.test === undefined ? undefined : eq(respondents.test, f.test),
    );
  }

  async list(survey: SurveyRow, filter: RecordFilter, limit: number, cursor?: string) {
    const after = decodeCursor<number>(cursor, 'number');
    const rows = await this.db
      .select({ record: records, username: respondents.username })
      .from(records)
      .innerJoin(respondents, eq(respondents.id, records.respondentId))
      .where(and(this.where(survey.id, filter), after === null ? undefined : gt(records.id, after)))
      .orderBy(asc(records.id))
      .limit(limit + 1);
    const p = page(rows, limit, (r) => r.record.id);
    return { items: p.items.map((r) => recordView(r.record, r.username)), nextCursor: p.nextCursor };
  }

  async get(survey: SurveyRow, id: number) {
    const [row] = await this.db
      .select({ record: records, username: respondents.username })
      .from(records)
      .innerJoin(respondents, eq(respondents.id, records.respondentId))
      .where(and(eq(records.surveyId, survey.id), eq(records.id, id)));
    if (!row) throw new AppError('RECORD_NOT_FOUND', `record ${id} not found`);
    const def = await this.runtime.definition(survey.id, row.record.definitionVersion).catch(() => null);
    const history = await this.db.select().from(recordHistory).where(eq(recordHistory.recordId, id)).orderBy(asc(recordHistory.id));
    return {
      ...recordView(row.record, row.username),
      labelledAnswers: labelledAnswers(def, row.record.answers),
      history: history.map((h) => ({ id: h.id, actor: h.actor, action: h.action, change: h.change, at: h.at.toISOString() })),
    };
  }

  levels(survey: SurveyRow): ReviewLevelSetting[] {
    return ((survey.settings.reviewLevels ?? []) as ReviewLevelSetting[]).map((l) => ({ ...l, lock: l.lock ?? false }));
  }

  async review(survey: SurveyRow, actor: { userId: number; role: Role }, id: number, levelId: string) {
    const levels = this.levels(survey);
    const to = levels.find((l) => l.id === levelId);
    if (!to) {
      throw new AppError('VALIDATION_FAILED', `unknown review level "${levelId}"`, { fields: [{ path: '/body/level', message: `is not one of the survey's reviewLevels (${levels.map((l) => l.id).join(', ') || 'none set'})` }] });
    }
    if (!to.roles.includes(actor.role)) throw new AppError('FORBIDDEN', `the level "${to.name}" is for ${to.roles.join(', ') || 'no role'}; you are ${actor.role}`);
    return this.db.transaction(async (tx) => {
      const [record] = await tx.select().from(records).where(and(eq(records.surveyId, survey.id), eq(records.id, id))).for('update');
      if (!record) throw new AppError('RECORD_NOT_FOUND', `record ${id} not found`);
      const [respondent] = await tx.select().from(respondents).where(eq(respondents.id, record.respondentId));
      const known = levels.find((l) => l.id === record.reviewLevel);
      // A level removed from the settings since is still reported by its id, with the lock it left.
      const from: LevelRef | null = record.reviewLevel === null ? null : known ? levelRef(known) : { id: record.reviewLevel, seq: -1, name: record.reviewLevel, lock: record.locked };
      if (record.reviewLevel === to.id) {
        return { record: recordView(record, respondent.username), from, to: levelRef(to), lockBroken: false, changed: false, syncDeliveryIds: [] as string[] };
      }
      const lockBroken = record.locked && !to.lock;
      const [updated] = await tx.update(records).set({ reviewLevel: to.id, locked: to.lock, updatedAt: new Date() }).where(eq(records.id, id)).returning();
      await tx.insert(recordHistory).values({ recordId: id, actor: `user:${actor.userId}`, action: 'review_changed', change: { from, to: levelRef(to), lockBroken } });
      const e = await emitEvent(tx, this.schemaName, { inline: true,
        type: 'record.review_changed', survey: surveyRef(survey), respondent: eventRespondent(respondent),
        data: { recordId: id, from, to: levelRef(to), lockBroken },
      });
      return { record: recordView(updated, respondent.username), from, to: levelRef(to), lockBroken, changed: true, syncDeliveryIds: e.syncDeliveryIds };
    });
  }

  /**
   * Export columns: the current definition's questions in order, then questions only older
   * versions had (newest first), so answers to dropped questions still export.
   */
  async exportColumns(survey: SurveyRow): Promise<{ id: string; label: string }[]> {
    const versions = await this.db
      .selectDistinct({ v: records.definitionVersion })
      .from(records)
      .where(and(eq(records.surveyId, survey.id), isNotNull(records.outcome)))
      .orderBy(desc(records.definitionVersion));
    const ordered = [survey.definitionVersion, ...versions.map((r) => r.v).filter((v) => v !== survey.definitionVersion)].filter((v) => v > 0);
    const cols = new Map<string, string>();
    for (const v of ordered) {
      const def: Definition | null = await this.runtime.definition(survey.id, v).catch(() => null);
      for (const q of def?.questions ?? []) if (!cols.has(q.id)) cols.set(q.id, q.label);
    }
    return [...cols].map(([id, label]) => ({ id, label }));
  }

  /** Every finished record (a submission), in id order, in batches so memory stays flat. */
  async *submissions(survey: SurveyRow, filter: { outcome?: Outcome } = {}, batch = 500) {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .select({ record: records, username: respondents.username })
        .from(records)
        .innerJoin(respondents, eq(respondents.id, records.respondentId))
        .where(and(eq(records.surveyId, survey.id), isNotNull(records.outcome), filter.outcome ? eq(records.outcome, filter.outcome) : undefined, gt(records.id, after)))
        .orderBy(asc(records.id))
        .limit(batch);
      for (const r of rows) yield r;
      if (rows.length < batch) return;
      after = rows[rows.length - 1].record.id;
    }
  }
}
