/**
 * Panel-mode entry refusals (inBrain's termination codes), plugged into the entry routes as
 * EntryHooks guards after the signature guard (src/redirects/entryHooks.ts):
 * - identifier on the account's blocklist → status 9 (banned), with nothing about the survey;
 * - a create-user link of a respondent who already has an outcome → status 7, when the survey
 *   has a failure URL (as the redirects guard does for auth links); with `maxAttemptsPerRespondent`
 *   N > 1 such a respondent starts a new attempt instead (status back to `started`, by the
 *   listener), and after the N-th attempt any entry gets status 10 (attempts limit);
 * - survey closed (`state` closed; drafts stay reachable) → status 6, test respondents excepted;
 * - completions limit (`quota.maxCompletes`) already reached → status 11, test respondents excepted.
 * - an `entryScreening` rule matching the entry parameters or labels → the rule's status, else
 *   19 (screened out on entry; replacement surveys are not built yet).
 * A refused entry goes to the failure URL (`outcomeUrls.disqualified`) with the status, or sees
 * an HTML page when there is none. Nothing is written. Applies to `?auth=`, `/a/{token}` and
 * `?createUser=` (the JWT is verified, not consumed, to read its `test` claim).
 */
import type { EntryContext, EntryHooks } from '../http/routes/respondentEntry.ts';
import type { Services } from '../services.ts';
import { renderErrorPage } from '../http/html.ts';
import { OUTCOMES } from '../db/schema/records.ts';
import { LABELS } from '../respondents/fields.ts';
import type { RespondentRow } from '../respondents/service.ts';
import { captureEntryParams } from './entryParams.ts';
import { matchEntryScreening, type EntryFacts, type EntryRule } from './entryScreening.ts';
import { statusCode, type StatusName } from './statusCodes.ts';
import { attemptsUsed, maxAttempts } from '../runtime/attempts.ts';
import { respondents } from '../db/schema/index.ts';
import { and, eq, inArray } from 'drizzle-orm';

const isFinished = (status: string) => (OUTCOMES as readonly string[]).includes(status);
const BROWSER_VIAS = new Set<EntryContext['via']>(['auth', 'short', 'createUser']);

const MESSAGES: Partial<Record<StatusName, string>> = {
  banned: 'You cannot take part.',
  surveyClosed: 'This survey is closed and takes no more answers.',
  completionsLimit: 'This survey has all the answers it needs.',
  attemptsLimit: 'You have already taken this survey as many times as it allows.',
  noReplacement: 'This survey is not for you, and there is no other one to offer.',
};

/** The respondent an entry names, as far as the guard can tell without writing. */
interface EntryIdentity {
  username: string | null;
  test: boolean;
  /** The respondent already has an outcome. */
  finished?: boolean;
  respondentId?: number;
  facts: EntryFacts;
}

export function panelEntryHooks(services: Services): EntryHooks {
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const params = (ctx: EntryContext) => captureEntryParams(ctx.request.query as Record<string, unknown>, ctx.survey.settings.entryParams as string[] | undefined);
  const labelsOf = (r: RespondentRow) => Object.fromEntries(LABELS.map((l) => [l, r[l]]));

  async function identity(ctx: EntryContext): Promise<EntryIdentity | null> {
    if (ctx.via === 'auth' || ctx.via === 'short') {
      const raw = ctx.via === 'auth' ? (ctx.request.query as { auth?: unknown }).auth : (ctx.request.params as { token?: unknown }).token;
      const token = first(raw);
      if (typeof token !== 'string') return null;
      const found = await services.respondents.findByToken(token);
      if (!found || found.survey.id !== ctx.survey.id) return null;
      const r = found.respondent;
      return { username: r.username, test: r.test, respondentId: r.id, finished: isFinished(r.status), facts: { params: { ...r.entryParams, ...params(ctx) }, labels: labelsOf(r) } };
    }
    const jwt = first((ctx.request.query as { createUser?: unknown }).createUser);
    const secret = ctx.survey.allowUserGeneration ? services.surveys.jwtSecret(ctx.survey) : null;
    if (typeof jwt !== 'string' || !secret) return null;
    try {
      const payload = await services.createUser.verify(jwt, ctx.survey, secret);
      const name = typeof payload.username === 'string' ? payload.username : typeof payload.user === 'string' ? payload.user : null;
      const existing = name === null ? null : await services.respondents.find(ctx.survey.id, name);
      const claims = payload as Record<string, unknown>;
      const labels: Record<string, string | null | undefined> = existing ? labelsOf(existing) : {};
      for (const l of LABELS) if (typeof claims[l] === 'string') labels[l] = claims[l] as string;
      return {
        username: name,
        test: existing ? existing.test : payload.test === true,
        finished: existing ? isFinished(existing.status) : false,
        respondentId: existing?.id,
        facts: { params: { ...(existing?.entryParams ?? {}), ...params(ctx) }, labels },
      };
    } catch {
      return null; // the create-user flow itself answers an invalid token
    }
  }

  async function refuse(ctx: EntryContext, name: StatusName, explicit?: number): Promise<true> {
    const status = explicit ?? statusCode(ctx.survey.settings, name);
    ctx.request.log.info({ survey: ctx.survey.slug, status }, 'panel entry refused');
    ctx.reply.header('cache-control', 'no-store');
    // A banned respondent is told nothing about the survey: of the appended parameters, status alone.
    const settings = ctx.survey.settings as { redirectParams?: string[] };
    const survey = name !== 'banned' ? ctx.survey
      : { ...ctx.survey, settings: { ...ctx.survey.settings, redirectParams: (settings.redirectParams ?? []).filter((p) => p === 'status') } };
    const target = services.redirects.entryFailureUrl(survey, status);
    if (target) {
      await ctx.reply.redirect(target, 302);
      return true;
    }
    const message = `${MESSAGES[name] ?? 'You cannot take this survey.'} (status ${status})`;
    const title = name === 'banned' ? 'Not available' : 'This survey is not available';
    await ctx.reply.code(403).type('text/html; charset=utf-8').send(renderErrorPage(403, message, title));
    return true;
  }

  const guard = async (ctx: EntryContext): Promise<boolean> => {
    if (!BROWSER_VIAS.has(ctx.via)) return false;
    const who = await identity(ctx);
    if (who?.username && (await services.blocklist.isBlocked(ctx.survey.accountId, who.username))) return refuse(ctx, 'banned');
    const attempts = maxAttempts(ctx.survey.settings);
    if (attempts > 1 && who?.respondentId !== undefined && (await attemptsUsed(services.database.db, who.respondentId)) >= attempts) {
      return refuse(ctx, 'attemptsLimit');
    }
    // Auth links get status 7 from the redirects guard; create-user links of a finished respondent here.
    if (attempts === 1 && ctx.via === 'createUser' && who?.finished && services.redirects.entryFailureUrl(ctx.survey, statusCode(ctx.survey.settings, 'alreadyAttempted'))) {
      return refuse(ctx, 'alreadyAttempted');
    }
    const closed = ctx.survey.state === 'closed'; // drafts stay reachable for trying them out
    const full = !closed && (await services.runtime.completesReached(ctx.survey));
    if ((closed || full) && !who?.test) return refuse(ctx, closed ? 'surveyClosed' : 'completionsLimit');
    const rule = who ? matchEntryScreening(ctx.survey.settings.entryScreening as EntryRule[] | undefined, who.facts) : null;
    if (rule) return refuse(ctx, 'noReplacement', rule.status);
    return false;
  };

  /** A finished respondent let in again (attempts left) starts a new attempt. */
  const newAttempt = async (ctx: EntryContext & { respondent: RespondentRow }) => {
    if (!BROWSER_VIAS.has(ctx.via) || maxAttempts(ctx.survey.settings) <= 1 || !isFinished(ctx.respondent.status)) return;
    await services.database.db.update(respondents).set({ status: 'started', updatedAt: new Date() })
      .where(and(eq(respondents.id, ctx.respondent.id), inArray(respondents.status, [...OUTCOMES])));
  };

  return { guards: [guard], listeners: [newAttempt] };
}

/** Several domains' entry hooks, in order. */
export function combineEntryHooks(...all: EntryHooks[]): EntryHooks {
  return { guards: all.flatMap((h) => h.guards), listeners: all.flatMap((h) => h.listeners) };
}
