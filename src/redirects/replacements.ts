/**
 * Replacement surveys (panel mode; inBrain's `entrySurveyId` vs `surveyId`).
 *
 * Terms:
 * - entry survey: the survey whose link the respondent followed.
 * - replacement: a survey named in the entry survey's `replacements` (same account, tried in
 *   order) that takes the respondent when the entry survey turns them away at the door:
 *   closed, completions limit reached, or screened out by `entryScreening`.
 * - moved respondent: the replacement survey's own respondent row for the same third-party
 *   identity (username), created with `createdVia: "replacement"` and `entrySurveyId` = the
 *   entry survey. Its redirects say surveyId = replacement, entrySurveyId = entry survey; its
 *   events carry `entrySurvey`. `entrySurveyId` is set once (coalesce) and never reset.
 *
 * A replacement takes the respondent when it is `active` (not draft, not closed) with a
 * definition, has room (test respondents excepted), does not screen them out on its own entry
 * rules, they have attempts left there, and, if it requires signed entry links, the entry was
 * signed too (a verified link of the entry survey, or an authenticated API entry). Only the
 * entry survey's list is read: replacements of replacements are not followed, so there are no
 * chains or cycles.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { JWTPayload } from 'jose';
import type { Db } from '../db/client.ts';
import { respondents, surveys } from '../db/schema/index.ts';
import { OUTCOMES } from '../db/schema/records.ts';
import { AppError } from '../errors.ts';
import { emitEvent } from '../events/outbox.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { CreateUserService } from '../respondents/createUser.ts';
import { LABELS, mergeCustomFields } from '../respondents/fields.ts';
import { eventData, newAuthToken, respondentRef, type RespondentChanges, type RespondentRow, type RespondentsService } from '../respondents/service.ts';
import { attemptsUsed, maxAttempts } from '../runtime/attempts.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { surveyRef, type SurveyRow } from '../surveys/service.ts';
import { matchEntryScreening, type EntryFacts, type EntryRule } from './entryScreening.ts';

const isFinished = (status: string) => (OUTCOMES as readonly string[]).includes(status);

/** Who is at the door of the entry survey, as far as entry can tell. */
export interface Entrant {
  username: string;
  test: boolean;
  /** The entry survey's respondent, when the entry names one (auth links, known create-user users). */
  source: RespondentRow | null;
  /** Create-user claims, applied over the source's values. */
  claims: RespondentChanges;
  /** The verified create-user JWT: moving uses up its `jti` on the entry survey. */
  jwt: JWTPayload | null;
  /** Entry parameters: the source's, overlaid with those captured from this entry. */
  entryParams: Record<string, string>;
  /** Only those captured from this entry (what a respondent already in the replacement gets merged). */
  captured: Record<string, string>;
  /** The entry was signed (a verified link) or authenticated otherwise (an API entry point). */
  signed: boolean;
  facts: EntryFacts;
}

export type ReplacementChoice =
  /** `existing`: the member's respondent there already, if any. */
  | { survey: SurveyRow; existing: RespondentRow | null }
  /** None takes them; `usedUp`: one would have, but they have used their attempt(s) there (status 7, or 10 when it allows several). */
  | { survey: null; usedUp: 'alreadyAttempted' | 'attemptsLimit' | null };

export class ReplacementsService {
  constructor(
    private readonly db: Db,
    private readonly schemaName: string,
    private readonly box: SecretBox,
    private readonly runtime: RuntimeService,
    private readonly respondents: RespondentsService,
    private readonly createUser: CreateUserService,
  ) {}

  /** The first replacement of `entry` that takes the entrant, in the order listed. */
  async choose(entry: SurveyRow, who: Entrant): Promise<ReplacementChoice> {
    const slugs = (entry.settings.replacements as string[] | undefined) ?? [];
    if (slugs.length === 0) return { survey: null, usedUp: null };
    const rows = await this.db.select().from(surveys).where(and(eq(surveys.accountId, entry.accountId), inArray(surveys.slug, slugs)));
    const bySlug = new Map(rows.map((r) => [r.slug, r]));
    let usedUp: 'alreadyAttempted' | 'attemptsLimit' | null = null;
    for (const slug of slugs) {
      const candidate = bySlug.get(slug);
      if (!candidate || candidate.id === entry.id || candidate.state !== 'active' || candidate.definitionVersion < 1) continue;
      if (candidate.settings.requireSignedEntry === true && !who.signed) continue;
      if (!who.test && (await this.runtime.completesReached(candidate))) continue;
      if (matchEntryScreening(candidate.settings.entryScreening as EntryRule[] | undefined, who.facts)) continue;
      const existing = await this.respondents.find(candidate.id, who.username);
      if (existing && isFinished(existing.status)) {
        const allowed = maxAttempts(candidate.settings);
        if (allowed <= 1 || (await attemptsUsed(this.db, existing.id)) >= allowed) {
          usedUp ??= allowed <= 1 ? 'alreadyAttempted' : 'attemptsLimit';
          continue;
        }
      }
      return { survey: candidate, existing };
    }
    return { survey: null, usedUp };
  }

  /**
   * Moves the entrant into `target`: creates its respondent (one transaction with its
   * `respondent.created` event and the create-user jti), or finds the one that exists there
   * and records this entry on it. Concurrent moves of one identity make one row. With
   * `startSession` (every entry but the create-user API) the respondent's session starts there.
   */
  async move(entry: SurveyRow, target: SurveyRow, who: Entrant, startSession: boolean, existing: RespondentRow | null = null): Promise<RespondentRow> {
    // The same member clicking the same link again, mid-session there: nothing to write.
    if (existing && !who.jwt && existing.entrySurveyId !== null && existing.status === 'started'
      && Object.entries(who.captured).every(([k, v]) => existing.entryParams[k] === v)) return existing;
    return this.db.transaction(async (tx) => {
      if (who.jwt) await this.createUser.useJti(tx, entry, who.jwt);
      const t = newAuthToken(this.box);
      const inserted = await tx
        .insert(respondents)
        .values({
          ...this.carriedFields(who), surveyId: target.id, username: who.username, createdVia: 'replacement',
          authTokenSealed: t.sealed, authTokenHash: t.hash, test: who.test, entryParams: who.entryParams, entrySurveyId: entry.id,
        })
        .onConflictDoNothing({ target: [respondents.surveyId, respondents.username] })
        .returning();
      if (inserted.length > 0) {
        const row = inserted[0];
        await emitEvent(tx, this.schemaName, { type: 'respondent.created', survey: surveyRef(target), respondent: respondentRef(row), data: eventData(row) });
        if (startSession) await this.runtime.startSession(target, row.id, tx);
        return row;
      }
      // Already a respondent of the replacement: its own fields stay; the entry is recorded
      // (first entry survey kept), and a finished one with attempts left (choose checked) starts again.
      const [row] = await tx
        .update(respondents)
        .set({
          entryParams: sql`${respondents.entryParams} || ${JSON.stringify(who.captured)}::jsonb`,
          entrySurveyId: sql`coalesce(${respondents.entrySurveyId}, ${entry.id})`,
          updatedAt: new Date(),
        })
        .where(and(eq(respondents.surveyId, target.id), eq(respondents.username, who.username)))
        .returning();
      if (!row) throw new AppError('CONFLICT', 'the respondent changed concurrently; try again');
      if (startSession) await this.runtime.startSession(target, row.id, tx);
      return (await this.respondents.find(target.id, who.username, tx)) ?? row;
    });
  }

  /** The identity's data as it moves: the source row's values, then the create-user claims. */
  private carriedFields(who: Entrant): Partial<typeof respondents.$inferInsert> {
    const out: Partial<typeof respondents.$inferInsert> = {};
    for (const k of ['name', 'email', 'phone', 'redirectUrl', ...LABELS] as const) {
      const claimed = who.claims[k];
      out[k] = claimed !== undefined ? claimed : (who.source?.[k] ?? null);
    }
    const stored = who.source?.customFields ?? {};
    out.customFields = who.claims.customFields ? mergeCustomFields(stored, who.claims.customFields) : stored;
    return out;
  }
}
