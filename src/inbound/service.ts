/**
 * Inbound webhooks (Webankieta's `update-respondent` and `add-respondent`): a URL any system
 * can call to add or update respondents. The HTTP layer authenticates (./keys.ts), counts the
 * call against the key's rate limit, merges the parameters (./params.ts) and calls `call`;
 * every outcome lands in the audit log (./log.ts).
 *
 * One call is one transaction: the respondent change, its event (written by the respondents
 * service) and the audit row commit together, or nothing but the audit row of the refusal.
 */
import { and, eq, or, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { respondents as respondentsTable, surveys as surveysTable } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { RateLimiter } from '../lib/rateLimiter.ts';
import type { RespondentChanges, RespondentRow, RespondentsService } from '../respondents/service.ts';
import type { SurveyRow } from '../surveys/service.ts';
import { InboundKeys } from './keys.ts';
import { InboundLog, type CallContext } from './log.ts';
import {
  WEBHOOK_NAMES, checkRedirectOrigin, readAddRespondent, readUpdateRespondent, type AddRespondentInput, type Params,
  type UpdateRespondentInput, type WebhookName,
} from './params.ts';

export const MSG_UPDATED = "Respondent has been updated on the survey's mailing list";
export const MSG_ADDED = 'Respondent has been added';

export interface InboundSuccess {
  type: 'success';
  msg: string;
  id_respondent: number;
  auth_url?: string;
  created?: boolean;
}

export class InboundService {
  readonly keys: InboundKeys;
  readonly log: InboundLog;
  private readonly limiter: RateLimiter;

  constructor(
    private readonly db: Db,
    private readonly respondents: RespondentsService,
    publicUrl: string,
    private readonly ratePerMinute: number,
  ) {
    this.keys = new InboundKeys(db, publicUrl);
    this.log = new InboundLog(db);
    this.limiter = new RateLimiter(ratePerMinute, 60_000);
  }

  /** Counts one authenticated call of the key; 429 with Retry-After over the limit. */
  rateLimit(keyId: string): void {
    const wait = this.limiter.hit(keyId);
    if (wait !== null) {
      throw new AppError('RATE_LIMITED', `more than ${this.ratePerMinute} calls a minute with this key; retry in ${wait} s`, undefined, { 'retry-after': String(wait) });
    }
  }

  /** Runs the webhook `name` for an authenticated key of `accountId`. */
  async call(ctx: CallContext, accountId: number, name: string, params: Params): Promise<InboundSuccess> {
    if (!(WEBHOOK_NAMES as readonly string[]).includes(name)) {
      const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
      throw new AppError('NOT_FOUND', `unknown webhook "${shown}" (update-respondent or add-respondent)`);
    }
    const result = (name as WebhookName) === 'update-respondent'
      ? await this.update(ctx, accountId, readUpdateRespondent(params))
      : await this.add(ctx, accountId, readAddRespondent(params));
    // After the commit, and only for accepted calls: a refused call changes nothing but the log.
    if (ctx.keyId) await this.keys.touch(ctx.keyId).catch(() => {});
    return result;
  }

  /** The survey `ref` (numeric id or slug) of the account; another account's survey is unknown. */
  async findSurvey(accountId: number, ref: string): Promise<SurveyRow> {
    const byId = /^[0-9]{1,10}$/.test(ref) && Number(ref) <= 2_147_483_647 ? Number(ref) : null;
    const match: SQL | undefined = byId === null ? eq(surveysTable.slug, ref) : or(eq(surveysTable.id, byId), eq(surveysTable.slug, ref));
    const rows = await this.db.select().from(surveysTable).where(and(eq(surveysTable.accountId, accountId), match));
    // A numeric ref that is both one survey's id and another's slug means the id.
    const row = rows.find((r) => r.id === byId) ?? rows[0];
    if (!row) throw new AppError('SURVEY_NOT_FOUND', `survey "${ref}" not found (id_survey)`);
    return row;
  }

  private async update(ctx: CallContext, accountId: number, input: UpdateRespondentInput): Promise<InboundSuccess> {
    const survey = await this.findSurvey(accountId, input.surveyRef);
    ctx.surveyId = survey.id;
    checkRedirectOrigin(input.redirectUrl, survey.allowedRedirectOrigins);
    const changes: RespondentChanges = { ...input.labels };
    if (input.redirectUrl !== undefined) changes.redirectUrl = input.redirectUrl;
    return this.db.transaction(async (tx) => {
      const target = await this.locate(tx, survey, input);
      ctx.respondentId = target.id;
      const { row, changed } = await this.respondents.updateIn(tx, survey, target.id, changes, '/params');
      ctx.changed = changed;
      await this.log.write(tx, ctx, 200, changed.length > 0 ? 'updated' : 'unchanged', null);
      return { type: 'success', msg: MSG_UPDATED, id_respondent: row.id };
    });
  }

  /** The respondent named by id_respondent and/or username, in this survey only. */
  private async locate(tx: Tx, survey: SurveyRow, input: UpdateRespondentInput): Promise<RespondentRow> {
    const where = [eq(respondentsTable.surveyId, survey.id)];
    if (input.respondentId !== undefined) where.push(eq(respondentsTable.id, input.respondentId));
    if (input.username !== undefined) where.push(eq(respondentsTable.username, input.username));
    const [row] = await tx.select().from(respondentsTable).where(and(...where));
    if (!row) {
      const what = input.respondentId !== undefined ? `id_respondent ${input.respondentId}` : `username "${input.username}"`;
      throw new AppError('RESPONDENT_NOT_FOUND', `respondent not found in this survey (${what})`);
    }
    return row;
  }

  private async add(ctx: CallContext, accountId: number, input: AddRespondentInput): Promise<InboundSuccess> {
    const survey = await this.findSurvey(accountId, input.surveyRef);
    ctx.surveyId = survey.id;
    checkRedirectOrigin(input.redirectUrl, survey.allowedRedirectOrigins);
    const changes: RespondentChanges = { ...input.labels };
    if (input.email !== undefined) changes.email = input.email;
    if (input.redirectUrl !== undefined) changes.redirectUrl = input.redirectUrl;
    const { row, created } = await this.db.transaction(async (tx) => {
      let out: { row: RespondentRow; created: boolean };
      if (input.onExisting === 'update') {
        const r = await this.respondents.upsertIn(tx, survey, input.username, changes, 'inbound', '/params');
        ctx.changed = r.created ? setFields(changes) : r.changed;
        out = r;
      } else {
        const r = await this.respondents.createIn(tx, survey, { ...changes, username: input.username }, 'inbound');
        ctx.changed = setFields(changes);
        out = { row: r.row, created: true };
      }
      ctx.respondentId = out.row.id;
      await this.log.write(tx, ctx, 200, out.created ? 'created' : ctx.changed.length > 0 ? 'updated' : 'unchanged', null);
      return out;
    });
    const authUrl = this.respondents.authUrls(survey, this.respondents.token(row)).authUrl;
    return { type: 'success', msg: created ? MSG_ADDED : MSG_UPDATED, id_respondent: row.id, auth_url: authUrl, created };
  }
}

/** The fields a new respondent was given (for the audit log). */
function setFields(changes: RespondentChanges): string[] {
  return ['username', ...Object.entries(changes).filter(([, v]) => v !== null && v !== undefined).map(([k]) => k)];
}
