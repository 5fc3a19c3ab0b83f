/**
 * The survey runtime: definition versions and the respondent's session (autosave, submit,
 * exit). Every change and its event commit in one transaction; the respondent row is locked
 * first in every respondent write, so one respondent's concurrent calls run one at a time.
 */
import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Tx } from '../db/client.ts';
import { recordHistory, records, respondents, surveyDefinitions, surveys, type Outcome } from '../db/schema/index.ts';
import { AppError, type FieldError } from '../errors.ts';
import { emitEvent } from '../events/outbox.ts';
import { surveyRef } from '../surveys/service.ts';
import {
  checkAnswer, isAnswered, matchScreening, publicDefinition, validateDefinition, type Answers, type Definition,
} from './definition.ts';
import { outcomeStatusCode, statusCode } from '../redirects/statusCodes.ts';
import { maxAttempts } from './attempts.ts';
import { eventRespondent, submissionData, type RecordRow, type RespondentRow, type SurveyRow } from './data.ts';

const FINISHED: ReadonlySet<string> = new Set(['completed', 'disqualified', 'quota_full', 'exited']);

/** Supplied by the redirects domain when it exists; otherwise the follow-up URL is used as is. */
export type RedirectResolver = (input: {
  survey: SurveyRow; respondent: RespondentRow; outcome: Outcome; statusCode: number | null; record: RecordRow; tx: Tx;
}) => Promise<unknown> | unknown;

export interface OutcomeResult {
  outcome: Outcome;
  status: number | null;
  redirectUrl: string | null;
  recordId: number;
  syncDeliveryIds: string[];
}

export class RuntimeService {
  /** Versions never change once written, so they are cached for the life of the process. */
  private readonly definitions = new Map<string, Definition>();

  constructor(private readonly db: Db, private readonly schemaName: string) {}

  // ---- definitions -------------------------------------------------------------------------

  async saveDefinition(survey: SurveyRow, def: Definition, userId: number | null) {
    const fields = validateDefinition(def);
    if (fields.length > 0) throw new AppError('INVALID_DEFINITION', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
    return this.db.transaction(async (tx) => {
      // The survey row lock makes version numbers gapless and unique under concurrent saves.
      const [row] = await tx.select({ v: surveys.definitionVersion }).from(surveys).where(eq(surveys.id, survey.id)).for('update');
      if (!row) throw new AppError('SURVEY_NOT_FOUND', `survey "${survey.slug}" not found`);
      const version = row.v + 1;
      const [saved] = await tx.insert(surveyDefinitions).values({ surveyId: survey.id, version, definition: def, createdBy: userId }).returning();
      await tx.update(surveys).set({ definitionVersion: version, updatedAt: new Date() }).where(eq(surveys.id, survey.id));
      return { version, definition: def, createdAt: saved.createdAt.toISOString() };
    });
  }

  async definitionVersion(surveyId: number, version: number, db: Db | Tx = this.db): Promise<{ version: number; definition: Definition; createdAt: string } | null> {
    const [row] = await db.select().from(surveyDefinitions).where(and(eq(surveyDefinitions.surveyId, surveyId), eq(surveyDefinitions.version, version)));
    if (!row) return null;
    return { version, definition: row.definition as unknown as Definition, createdAt: row.createdAt.toISOString() };
  }

  async definition(surveyId: number, version: number, db: Db | Tx = this.db): Promise<Definition> {
    const key = `${surveyId}:${version}`;
    let def = this.definitions.get(key);
    if (!def) {
      const row = await this.definitionVersion(surveyId, version, db);
      if (!row) throw new AppError('SURVEY_CLOSED', 'this survey has no questions yet');
      def = row.definition;
      if (this.definitions.size > 2000) this.definitions.clear();
      this.definitions.set(key, def);
    }
    return def;
  }

  // ---- respondent session ------------------------------------------------------------------

  /** Respondents reach a survey only while it is active (inBrain status 6 otherwise). */
  /** Test respondents may take a closed survey (they never count toward quotas). */
  assertOpen(survey: SurveyRow, respondent?: { test: boolean }) {
    if (respondent?.test) return;
    if (survey.state !== 'active') throw new AppError('SURVEY_CLOSED', 'this survey is closed', { status: statusCode(survey.settings, 'surveyClosed') });
  }

  private async latestRecord(db: Db | Tx, respondentId: number, lock: boolean): Promise<RecordRow | undefined> {
    const q = db.select().from(records).where(eq(records.respondentId, respondentId)).orderBy(desc(records.attempt)).limit(1);
    const [row] = lock ? await q.for('update') : await q;
    return row;
  }

  /**
   * The record of the respondent's current attempt: the latest one, unless it carries an
   * outcome while the respondent was let in again (`maxAttemptsPerRespondent` > 1, status
   * back to `started`) and attempts are left — then none yet, and the next one is attempt + 1.
   */
  private async currentRecord(db: Db | Tx, survey: SurveyRow, respondent: RespondentRow, lock: boolean): Promise<{ record: RecordRow | undefined; attempt: number }> {
    const latest = await this.latestRecord(db, respondent.id, lock);
    if (latest && latest.outcome !== null && !FINISHED.has(respondent.status) && latest.attempt < maxAttempts(survey.settings)) return { record: undefined, attempt: latest.attempt + 1 };
    return { record: latest, attempt: latest?.attempt ?? 1 };
  }

  private async lockRespondent(tx: Tx, id: number): Promise<RespondentRow> {
    const [row] = await tx.select().from(respondents).where(eq(respondents.id, id)).for('update');
    if (!row) throw new AppError('UNAUTHENTICATED', 'this respondent no longer exists');
    return row;
  }

  private finished(respondent: RespondentRow, record: RecordRow | undefined): boolean {
    return (record?.outcome ?? null) !== null || FINISHED.has(respondent.status);
  }

  async session(survey: SurveyRow, respondent: RespondentRow) {
    this.assertOpen(survey, respondent);
    const { record } = await this.currentRecord(this.db, survey, respondent, false);
    // A record stays on the version it was started on, so a respondent never sees the form change mid-way.
    const version = record?.definitionVersion ?? survey.definitionVersion;
    const def = await this.definition(survey.id, version);
    const finished = this.finished(respondent, record);
    const outcome = record?.outcome ?? (finished ? (respondent.status as Outcome) : null);
    return {
      survey: { slug: survey.slug, name: survey.name },
      respondent: { userId: respondent.id, username: respondent.username },
      definitionVersion: version,
      definition: publicDefinition(def),
      answers: (record?.answers ?? {}) as Answers,
      recordId: record?.id ?? null,
      state: outcome ?? (record ? 'in_progress' : 'not_started'),
      locked: record?.locked ?? false,
      result: outcome ? { outcome, status: record?.statusCode ?? null, redirectUrl: record?.redirectUrl ?? null } : null,
    };
  }

  /** Partial save: merged into the saved answers by question id; `null` clears an answer. */
  async saveAnswers(survey: SurveyRow, respondentId: number, input: Record<string, unknown>) {
    return this.db.transaction(async (tx) => {
      const respondent = await this.lockRespondent(tx, respondentId);
      this.assertOpen(survey, respondent);
      const { record, attempt } = await this.currentRecord(tx, survey, respondent, true);
      if (this.finished(respondent, record)) throw new AppError('ALREADY_SUBMITTED', 'this survey was already submitted', { status: statusCode(survey.settings, 'alreadyAttempted') });
      if (record?.locked) throw new AppError('RECORD_LOCKED', 'this record is locked by a review level');
      const version = record?.definitionVersion ?? survey.definitionVersion;
      const def = await this.definition(survey.id, version, tx);
      const byId = new Map(def.questions.map((q) => [q.id, q]));
      const fields: FieldError[] = [];
      for (const [id, value] of Object.entries(input)) {
        const q = byId.get(id);
        if (!q) fields.push({ path: `/body/answers/${id}`, message: 'is not a question of this survey' });
        else if (value !== null) {
          const problem = checkAnswer(q, value);
          if (problem) fields.push({ path: `/body/answers/${id}`, message: problem });
        }
      }
      if (fields.length > 0) throw new AppError('VALIDATION_FAILED', fields.map((f) => `${f.path} ${f.message}`).join('; '), { fields });

      const before = (record?.answers ?? {}) as Answers;
      const merged: Answers = { ...before };
      const changed: Record<string, unknown> = {};
      const diff: Record<string, { from: unknown; to: unknown }> = {};
      for (const [id, value] of Object.entries(input)) {
        if (JSON.stringify(before[id] ?? null) === JSON.stringify(value)) continue;
        diff[id] = { from: before[id] ?? null, to: value };
        changed[id] = value;
        if (value === null) delete merged[id];
        else merged[id] = value as Answers[string];
      }
      const ref = surveyRef(survey);
      const who = eventRespondent(respondent);
      if (!record) {
        const [row] = await tx.insert(records).values({ surveyId: survey.id, respondentId, attempt, definitionVersion: version, answers: merged }).returning();
        await tx.insert(recordHistory).values({ recordId: row.id, actor: 'respondent', action: 'inserted', change: { answers: diff } });
        const e = await emitEvent(tx, this.schemaName, { inline: true, type: 'record.inserted', survey: ref, respondent: who, data: { recordId: row.id, answers: changed, definitionVersion: version } });
        return { recordId: row.id, answers: merged, changed: Object.keys(changed), syncDeliveryIds: e.syncDeliveryIds };
      }
      // Saving what is already saved changes nothing and tells nobody.
      if (Object.keys(changed).length === 0) return { recordId: record.id, answers: merged, changed: [], syncDeliveryIds: [] };
      await tx.update(records).set({ answers: merged, updatedAt: new Date() }).where(eq(records.id, record.id));
      await tx.insert(recordHistory).values({ recordId: record.id, actor: 'respondent', action: 'updated', change: { answers: diff } });
      const e = await emitEvent(tx, this.schemaName, { inline: true, type: 'record.updated', survey: ref, respondent: who, data: { recordId: record.id, answers: changed, definitionVersion: version } });
      return { recordId: record.id, answers: merged, changed: Object.keys(changed), syncDeliveryIds: e.syncDeliveryIds };
    });
  }

  async submit(survey: SurveyRow, respondentId: number, resolveRedirect?: RedirectResolver): Promise<OutcomeResult> {
    return this.db.transaction(async (tx) => {
      const respondent = await this.lockRespondent(tx, respondentId);
      this.assertOpen(survey, respondent);
      const { record, attempt } = await this.currentRecord(tx, survey, respondent, true);
      // inBrain status 7: already attempted. Nothing is written, nothing is emitted.
      if (this.finished(respondent, record)) throw new AppError('ALREADY_SUBMITTED', 'this survey was already submitted', { status: statusCode(survey.settings, 'alreadyAttempted') });
      if (record?.locked) throw new AppError('RECORD_LOCKED', 'this record is locked by a review level');
      const version = record?.definitionVersion ?? survey.definitionVersion;
      const def = await this.definition(survey.id, version, tx);
      const answers = (record?.answers ?? {}) as Answers;
      const missing = def.questions.filter((q) => q.required && !isAnswered(answers[q.id])).map((q) => q.id);
      if (missing.length > 0) {
        throw new AppError('MISSING_ANSWERS', `required questions are unanswered: ${missing.join(', ')}`, {
          missing,
          fields: missing.map((id) => ({ path: `/answers/${id}`, message: 'is required' })),
        });
      }
      let outcome: Outcome = 'completed';
      let status: number | null = null;
      const rule = matchScreening(def, answers);
      if (respondent.test && survey.settings.terminateTestRespondents === true) {
        outcome = 'disqualified';
        status = statusCode(survey.settings, 'testTermination');
      } else if (rule) {
        outcome = rule.outcome;
        status = rule.status ?? this.statusFor(survey, outcome);
      } else if (!respondent.test && (await this.quotaReached(tx, survey))) {
        // Test respondents may take a full survey (panel mode) and never count toward it.
        outcome = 'quota_full';
        status = this.statusFor(survey, outcome);
      } else {
        status = this.statusFor(survey, outcome);
      }
      return this.finish(tx, survey, respondent, record, attempt, version, def, outcome, status, resolveRedirect);
    });
  }

  async exit(survey: SurveyRow, respondentId: number, resolveRedirect?: RedirectResolver): Promise<OutcomeResult> {
    return this.db.transaction(async (tx) => {
      const respondent = await this.lockRespondent(tx, respondentId);
      this.assertOpen(survey, respondent);
      const { record, attempt } = await this.currentRecord(tx, survey, respondent, true);
      if (this.finished(respondent, record)) throw new AppError('ALREADY_SUBMITTED', 'this survey was already submitted', { status: statusCode(survey.settings, 'alreadyAttempted') });
      const version = record?.definitionVersion ?? survey.definitionVersion;
      const def = await this.definition(survey.id, version, tx);
      return this.finish(tx, survey, respondent, record, attempt, version, def, 'exited', this.statusFor(survey, 'exited'), resolveRedirect);
    });
  }

  /**
   * A respondent comes in (entry link, sign-in, or a move into a replacement survey): their
   * first entry, or their first after an outcome when the survey allows more attempts (the
   * entry guard has checked that attempts are left), starts a session: status `started`,
   * `startedAt` set once, and a `session.started` event with the attempt number. Entering again
   * mid-attempt changes nothing and tells nobody. Runs in `tx` when given (the move's).
   */
  async startSession(survey: SurveyRow, respondentId: number, tx?: Tx): Promise<void> {
    if (!tx) return this.db.transaction((t) => this.startSession(survey, respondentId, t));
    const startable = maxAttempts(survey.settings) > 1 ? ['created', ...FINISHED] : ['created'];
    const [row] = await tx
      .update(respondents)
      .set({ status: 'started', startedAt: sql`coalesce(${respondents.startedAt}, now())`, updatedAt: new Date() })
      .where(and(eq(respondents.id, respondentId), inArray(respondents.status, startable as RespondentRow['status'][])))
      .returning();
    if (!row) return;
    const [{ n }] = await tx.select({ n: count() }).from(records).where(and(eq(records.respondentId, row.id), sql`${records.outcome} IS NOT NULL`));
    await emitEvent(tx, this.schemaName, {
      type: 'session.started', survey: surveyRef(survey), respondent: eventRespondent(row),
      data: { attempt: Number(n) + 1, startedAt: new Date().toISOString(), entryParams: row.entryParams },
    });
  }

  /** Whether the survey's `quota.maxCompletes` is reached (read at entry, without locks). */
  async completesReached(survey: SurveyRow): Promise<boolean> {
    if (survey.definitionVersion < 1) return false;
    const def = await this.definition(survey.id, survey.definitionVersion).catch(() => null);
    const max = def?.quota?.maxCompletes;
    if (max === undefined) return false;
    const [{ n }] = await this.db.select({ n: count() }).from(records).where(and(eq(records.surveyId, survey.id), eq(records.countsTowardQuota, true)));
    return Number(n) >= max;
  }

  /** Whether a webhook delivery belongs to an event of this respondent (for the hook retry button). */
  async ownsDelivery(surveyId: number, respondentId: number, deliveryId: string): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(await this.db.execute(sql`
      SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id
      WHERE d.id = ${deliveryId} AND e.survey_id = ${surveyId} AND e.respondent_id = ${respondentId}`));
    return rows.length > 0;
  }

  private statusFor(survey: SurveyRow, outcome: Outcome): number | null {
    return outcomeStatusCode(survey.settings, outcome);
  }

  /**
   * Counted under the survey row's lock: a second submit for the last place waits for the
   * first to commit, then counts it. The quota is the current definition's, whatever version
   * the record was answered on.
   */
  private async quotaReached(tx: Tx, survey: SurveyRow): Promise<boolean> {
    const current = await this.definition(survey.id, survey.definitionVersion, tx);
    if (current.quota?.maxCompletes === undefined) return false;
    const [locked] = await tx.select({ v: surveys.definitionVersion }).from(surveys).where(eq(surveys.id, survey.id)).for('update');
    const quota = locked.v === survey.definitionVersion ? current.quota : (await this.definition(survey.id, locked.v, tx)).quota;
    if (quota?.maxCompletes === undefined) return false;
    const [{ n }] = await tx.select({ n: count() }).from(records).where(and(eq(records.surveyId, survey.id), eq(records.countsTowardQuota, true)));
    return Number(n) >= quota.maxCompletes;
  }

  private async finish(
    tx: Tx, survey: SurveyRow, respondent: RespondentRow, existing: RecordRow | undefined, attempt: number, version: number, def: Definition,
    outcome: Outcome, status: number | null, resolveRedirect?: RedirectResolver,
  ): Promise<OutcomeResult> {
    // A submit or exit without any save still leaves a record (it carries the outcome and
    // redirect), announced like any other new record.
    const inserted: string[] = [];
    let record = existing;
    if (!record) {
      [record] = await tx.insert(records).values({ surveyId: survey.id, respondentId: respondent.id, attempt, definitionVersion: version, answers: {} }).returning();
      const e = await emitEvent(tx, this.schemaName, { inline: true, type: 'record.inserted', survey: surveyRef(survey), respondent: eventRespondent(respondent), data: { recordId: record.id, answers: {}, definitionVersion: version } });
      inserted.push(...e.syncDeliveryIds);
    }
    const redirectUrl = await this.redirectFor(tx, survey, respondent, record, outcome, status, resolveRedirect);
    const now = new Date();
    const [closed] = await tx
      .update(records)
      .set({ outcome, statusCode: status, redirectUrl, submittedAt: now, updatedAt: now, countsTowardQuota: outcome === 'completed' && !respondent.test })
      .where(eq(records.id, record.id))
      .returning();
    const [after] = await tx.update(respondents).set({ status: outcome, updatedAt: now }).where(eq(respondents.id, respondent.id)).returning();
    await tx.insert(recordHistory).values({ recordId: record.id, actor: 'respondent', action: outcome === 'exited' ? 'exited' : 'submitted', change: { outcome, status } });
    const type = outcome === 'completed' ? 'submission.completed' : outcome === 'exited' ? 'session.exited' : outcome === 'quota_full' ? 'session.quota_full' : 'session.disqualified';
    const e = await emitEvent(tx, this.schemaName, { inline: true, type, survey: surveyRef(survey), respondent: eventRespondent(after), data: submissionData(def, closed, after) });
    return { outcome, status, redirectUrl, recordId: record.id, syncDeliveryIds: [...inserted, ...e.syncDeliveryIds] };
  }

  private async redirectFor(
    tx: Tx, survey: SurveyRow, respondent: RespondentRow, record: RecordRow, outcome: Outcome, statusCode: number | null, resolve?: RedirectResolver,
  ): Promise<string | null> {
    // Until the redirects domain is wired in, the follow-up URL is used with no substitution.
    if (!resolve) return survey.followUpUrl ?? null;
    const r = await resolve({ survey, respondent, outcome, statusCode, record, tx });
    if (typeof r === 'string') return r;
    if (r && typeof r === 'object' && typeof (r as { url?: unknown }).url === 'string') return (r as { url: string }).url;
    if (r && typeof r === 'object' && typeof (r as { redirectUrl?: unknown }).redirectUrl === 'string') return (r as { redirectUrl: string }).redirectUrl;
    return null;
  }
}
