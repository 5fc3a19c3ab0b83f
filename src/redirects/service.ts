/**
 * Redirects out: the one place that turns (survey, respondent, outcome) into the URL the
 * respondent's browser is sent to. The survey runtime calls `resolveRedirect` at submit/exit
 * and stores the answer on the record; `/surveys/{slug}/finish` and the admin preview read
 * through here too, so all three agree.
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/client.ts';
import { records, respondents, surveys } from '../db/schema/index.ts';
import { OUTCOMES } from '../db/schema/records.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { SurveysService, SurveyRow } from '../surveys/service.ts';
import type { RespondentRow } from '../sessions/respondentSession.ts';
import { computeRedirect, rewardFor, statusCodeFor, type RedirectRespondent, type RedirectTarget } from './resolve.ts';
import { validateRedirectSettings } from './validator.ts';

export interface ResolvedRedirect {
  /** Where to send the respondent; null = the built-in completion page. */
  url: string | null;
  target: RedirectTarget;
  statusCode: number | null;
  reward: string | null;
  rewardId: string | null;
}

export interface ResolveRedirectInput {
  survey: SurveyRow;
  respondent: RespondentRow;
  outcome: string;
  /** Overrides the survey's code for this outcome (e.g. a quality termination). */
  statusCode?: number | null;
  /** Pass the stored values to reproduce an earlier answer; omitted = from outcomeRewards, fresh rewardId. */
  reward?: string | null;
  rewardId?: string | null;
  /** The caller's transaction (the runtime's submit/exit), used for reads and the reward write. */
  tx?: Queryable;
  db?: Queryable;
  /** The record being closed: its reward and rewardId are stored in `tx`, with the outcome. */
  record?: { id: number };
}

export type FinishTarget =
  | { kind: 'pending' }
  | { kind: 'redirect'; url: string }
  | { kind: 'builtin'; outcome: string };

export class RedirectsService {
  constructor(
    private readonly db: Db,
    private readonly surveys: SurveysService,
    private readonly box: SecretBox,
    private readonly log: Logger,
  ) {
    surveys.addValidator((view) => validateRedirectSettings(view));
  }

  async resolveRedirect(input: ResolveRedirectInput): Promise<ResolvedRedirect> {
    const { survey, respondent, outcome } = input;
    const db = input.tx ?? input.db ?? this.db;
    const statusCode = input.statusCode !== undefined && input.statusCode !== null ? input.statusCode : statusCodeFor(survey.settings, outcome);
    const reward = input.reward !== undefined ? input.reward : rewardFor(survey.settings, outcome, statusCode);
    // A reward gets a fresh id the third party can deduplicate on; no reward, no id.
    const rewardId = input.rewardId !== undefined ? input.rewardId : reward !== null ? randomUUID() : null;
    const result = computeRedirect({
      survey,
      respondent,
      outcome,
      statusCode,
      reward,
      rewardId,
      entrySurveySlug: await this.entrySurveySlug(survey, respondent, db),
      secret: this.surveys.linkSigningSecret(survey),
      authToken: () => (respondent.authTokenSealed ? this.box.open(respondent.authTokenSealed) : null),
    });
    for (const s of result.skipped) {
      this.log.warn({ survey: survey.slug, respondentId: respondent.id, target: s.target, reason: s.reason }, 'redirect target skipped');
    }
    if (input.record && (reward !== null || rewardId !== null)) {
      await db.update(records).set({ reward, rewardId }).where(eq(records.id, input.record.id));
    }
    return { url: result.url, target: result.target, statusCode, reward, rewardId };
  }

  /**
   * The failure URL for a refused entry (status 1, 2, 6, 7, 9, 10, 11, 19…):
   * `outcomeUrls.disqualified` with `status`, signed; null = show an error page. Without `who`
   * (signature refusals: the link may be forged) only survey-level values fill it; panel
   * refusals pass the entrant, whose credential was checked.
   */
  entryFailureUrl(
    survey: SurveyRow, status: number, who?: Pick<RedirectRespondent, 'id' | 'username' | 'customFields' | 'entryParams'>,
    outcome: 'disqualified' | 'quota_full' = 'disqualified',
  ): string | null {
    // A quota-like refusal (completions limit, a screening rule with outcome quota_full) uses
    // outcomeUrls.quota_full when the survey has one, else the failure URL.
    return (outcome !== 'disqualified' ? this.failureUrlFor(survey, status, who, outcome) : null)
      ?? this.failureUrlFor(survey, status, who, 'disqualified');
  }

  private failureUrlFor(
    survey: SurveyRow, status: number, who: Pick<RedirectRespondent, 'id' | 'username' | 'customFields' | 'entryParams'> | undefined, outcome: string,
  ): string | null {
    // The entrant, when entry could tell who it is: the panel learns which of its members was turned away.
    const respondent: RedirectRespondent = who ? { ...who, redirectUrl: null } : { id: 0, username: '', redirectUrl: null, customFields: {}, entryParams: {} };
    return computeRedirect({
      survey,
      respondent,
      outcome,
      statusCode: status,
      reward: null,
      rewardId: null,
      entrySurveySlug: survey.slug,
      secret: this.surveys.linkSigningSecret(survey),
      only: ['outcomeUrl'],
    }).url;
  }

  /** Where `/surveys/{slug}/finish` sends a signed-in respondent. */
  async finishTarget(survey: SurveyRow, respondent: RespondentRow): Promise<FinishTarget> {
    const [latest] = await this.db
      .select({ outcome: records.outcome, statusCode: records.statusCode, reward: records.reward, rewardId: records.rewardId, redirectUrl: records.redirectUrl })
      .from(records)
      .where(eq(records.respondentId, respondent.id))
      .orderBy(desc(records.attempt), desc(records.id))
      .limit(1);
    let outcome: string | null = latest ? latest.outcome : null;
    // An outcome reached without a record (e.g. screened out before the first save) lives on the respondent.
    if (!latest && (OUTCOMES as readonly string[]).includes(respondent.status)) outcome = respondent.status;
    if (!outcome) return { kind: 'pending' };
    if (latest?.redirectUrl) return { kind: 'redirect', url: latest.redirectUrl };
    const resolved = await this.resolveRedirect({
      survey,
      respondent,
      outcome,
      statusCode: latest?.statusCode ?? undefined,
      reward: latest ? latest.reward : undefined,
      rewardId: latest ? latest.rewardId : undefined,
    });
    return resolved.url ? { kind: 'redirect', url: resolved.url } : { kind: 'builtin', outcome };
  }

  /** What a respondent `username` would be sent to (admins testing their set-up); unknown usernames get a stand-in. */
  async preview(accountId: number, slug: string, input: { outcome: string; username: string }) {
    const survey = await this.surveys.get(accountId, slug);
    const [found] = await this.db.select().from(respondents).where(and(eq(respondents.surveyId, survey.id), eq(respondents.username, input.username)));
    const respondent: RespondentRow = found ?? standIn(survey, input.username);
    const resolved = await this.resolveRedirect({ survey, respondent, outcome: input.outcome });
    return { ...resolved, respondentFound: Boolean(found) };
  }

  private async entrySurveySlug(survey: SurveyRow, respondent: Pick<RespondentRow, 'entrySurveyId'>, db: Queryable): Promise<string> {
    if (!respondent.entrySurveyId || respondent.entrySurveyId === survey.id) return survey.slug;
    const [entry] = await db.select({ slug: surveys.slug }).from(surveys).where(eq(surveys.id, respondent.entrySurveyId));
    return entry?.slug ?? survey.slug;
  }
}

function standIn(survey: SurveyRow, username: string): RespondentRow {
  const now = new Date();
  return {
    id: 0, surveyId: survey.id, username, name: null, email: null, phone: null, redirectUrl: null,
    l1: null, l2: null, l3: null, l4: null, l5: null, l6: null, l7: null, l8: null, l9: null, l10: null,
    customFields: {}, status: 'created', createdVia: 'admin', passwordHash: null, authTokenSealed: '', authTokenHash: '',
    tokenVersion: 1, entryParams: {}, entrySurveyId: null, test: true, startedAt: null, createdAt: now, updatedAt: now,
  };
}
