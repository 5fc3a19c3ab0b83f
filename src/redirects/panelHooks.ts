/**
 * Panel-mode entry rules (inBrain's termination codes), plugged into every entry route as an
 * EntryHooks guard after the signature guard (src/redirects/entryHooks.ts):
 * - identifier on the account's blocklist → status 9 (banned), with nothing about the survey;
 * - a create-user link of a respondent who already has an outcome → status 7, when the survey
 *   has a failure URL (as the redirects guard does for auth links); with `maxAttemptsPerRespondent`
 *   N > 1 such a respondent starts a new attempt instead (status back to `started`, by the
 *   listener), and after the N-th attempt any entry gets status 10 (attempts limit);
 * - survey closed (`state` closed; drafts stay reachable) → status 6, test respondents excepted;
 * - completions limit (`quota.maxCompletes`) already reached → status 11, test respondents excepted;
 * - an `entryScreening` rule matching the entry parameters or labels → the rule's status, else 19.
 * For the last three, a survey listed in `replacements` that takes the respondent comes first:
 * the guard moves them there (src/redirects/replacements.ts) and the route signs them in to it.
 *
 * Browser entries (`?auth=`, `/a/{token}`, `?createUser=`) that are refused go to the failure
 * URL (`outcomeUrls.disqualified`) with the status, or see an HTML page when there is none. API
 * entries (`POST …/auth`, `…/login`, `…/create-user`) answer 403 `ENTRY_REFUSED` (closed:
 * `SURVEY_CLOSED`) with `details.status`. A refusal writes nothing. The create-user JWT is
 * verified here but not used up (its jti is, when the respondent is moved).
 */
import type { JWTPayload } from 'jose';
import type { EntryContext, EntryHooks, EntryVia } from '../http/routes/respondentEntry.ts';
import type { Services } from '../services.ts';
import { AppError } from '../errors.ts';
import { renderErrorPage } from '../http/html.ts';
import { OUTCOMES } from '../db/schema/records.ts';
import { LABELS } from '../respondents/fields.ts';
import { parseClaims } from '../respondents/createUser.ts';
import type { RespondentChanges, RespondentRow } from '../respondents/service.ts';
import { captureEntryParams } from './entryParams.ts';
import { matchEntryScreening, type EntryRule } from './entryScreening.ts';
import type { Entrant } from './replacements.ts';
import { statusCode, type StatusName } from './statusCodes.ts';
import { attemptsUsed, maxAttempts } from '../runtime/attempts.ts';
import { respondents } from '../db/schema/index.ts';
import { and, eq } from 'drizzle-orm';

const isFinished = (status: string) => (OUTCOMES as readonly string[]).includes(status);
const BROWSER_VIAS = new Set<EntryVia>(['auth', 'short', 'createUser']);

const MESSAGES: Partial<Record<StatusName, string>> = {
  banned: 'You cannot take part.',
  surveyClosed: 'This survey is closed and takes no more answers.',
  completionsLimit: 'This survey has all the answers it needs.',
  attemptsLimit: 'You have already taken this survey as many times as it allows.',
  alreadyAttempted: 'You have already taken part.',
  noReplacement: 'This survey is not for you, and there is no other one to offer.',
};

/** The entrant plus what the guard needs to know about their standing in the entry survey. */
type Door = Entrant & { finished: boolean; /** Read with the respondent when that was one query. */ blocked?: boolean };

export function panelEntryHooks(services: Services): EntryHooks {
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const labelsOf = (r: RespondentRow | null) => Object.fromEntries(LABELS.map((l) => [l, r?.[l]]));

  function door(ctx: EntryContext, source: RespondentRow | null, username: string, test: boolean, claims: RespondentChanges = {}, jwt: JWTPayload | null = null): Door {
    const captured = captureEntryParams(ctx.request.query as Record<string, unknown>, ctx.survey.settings.entryParams as string[] | undefined);
    const entryParams = { ...(source?.entryParams ?? {}), ...captured };
    const labels: Record<string, string | null | undefined> = labelsOf(source);
    for (const l of LABELS) if (claims[l] !== undefined) labels[l] = claims[l];
    // Browser links are signed when the entry survey requires it (the signature guard ran first); API entries are authenticated.
    const signed = !BROWSER_VIAS.has(ctx.via) || ctx.survey.settings.requireSignedEntry === true;
    return { username, test, source, claims, jwt, entryParams, captured, signed, facts: { params: entryParams, labels }, finished: source ? isFinished(source.status) : false };
  }

  /** Who the entry names, without writing; null when the route itself will refuse the credentials. */
  async function identify(ctx: EntryContext): Promise<Door | null> {
    const q = ctx.request.query as Record<string, unknown>;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (ctx.known) return door(ctx, ctx.known, ctx.known.username, ctx.known.test);
    if (ctx.via === 'auth' || ctx.via === 'short' || ctx.via === 'api-auth') {
      const token = first(ctx.via === 'auth' ? q.auth : ctx.via === 'short' ? (ctx.request.params as { token?: unknown }).token : body.token);
      if (typeof token !== 'string') return null;
      const found = await services.respondents.findByToken(token);
      if (!found || found.survey.id !== ctx.survey.id) return null;
      return door(ctx, found.respondent, found.respondent.username, found.respondent.test);
    }
    if (ctx.via === 'api-login') {
      // The route checked the password before the guards run.
      const found = typeof body.username === 'string' ? await services.respondents.find(ctx.survey.id, body.username) : null;
      return found ? door(ctx, found, found.username, found.test) : null;
    }
    const jwt = first(ctx.via === 'createUser' ? q.createUser : q.params ?? body.token ?? body.params);
    const secret = ctx.survey.allowUserGeneration ? services.surveys.jwtSecret(ctx.survey) : null;
    if (typeof jwt !== 'string' || !secret) return null;
    let payload: JWTPayload;
    let parsed: ReturnType<typeof parseClaims>;
    try {
      payload = await services.createUser.verify(jwt, ctx.survey, secret);
      parsed = parseClaims(payload, ctx.survey);
    } catch {
      return null; // the create-user flow itself answers an invalid token
    }
    const { username, changes } = parsed;
    // The respondent and the ban in one read (the common case: a known member clicking again).
    const [found] = await services.database.db
      .select({ row: respondents, blocked: services.blocklist.blockedSql(ctx.survey.accountId, username) })
      .from(respondents).where(and(eq(respondents.surveyId, ctx.survey.id), eq(respondents.username, username)));
    const existing = found?.row ?? null;
    ctx.verifiedJwt = { token: jwt, payload, existing };
    return { ...door(ctx, existing, username, existing ? existing.test : payload.test === true, changes, payload), blocked: found?.blocked };
  }

  async function refuse(ctx: EntryContext, name: StatusName, explicit?: number, who?: Door | null, outcome?: 'disqualified' | 'quota_full'): Promise<true> {
    const status = explicit ?? statusCode(ctx.survey.settings, name);
    ctx.request.log.info({ survey: ctx.survey.slug, status }, 'panel entry refused');
    services.metrics.entryRefusals.inc({ status: String(status) });
    const message = `${MESSAGES[name] ?? 'You cannot take this survey.'} (status ${status})`;
    if (!BROWSER_VIAS.has(ctx.via)) {
      throw new AppError(name === 'surveyClosed' ? 'SURVEY_CLOSED' : 'ENTRY_REFUSED', message, { status });
    }
    ctx.reply.header('cache-control', 'no-store');
    // A banned respondent is told nothing about the survey or themselves: of the appended
    // parameters, status alone, and the URL template's placeholders ({survey}, {username},
    // {entry:…}, …) render empty.
    const banned = name === 'banned';
    const settings = ctx.survey.settings as { redirectParams?: string[] };
    const survey = !banned ? ctx.survey
      : { ...ctx.survey, slug: '', settings: { ...ctx.survey.settings, redirectParams: (settings.redirectParams ?? []).filter((p) => p === 'status') } };
    const entrant = who && !banned ? { id: who.source?.id ?? 0, username: who.username, customFields: who.source?.customFields ?? {}, entryParams: who.entryParams } : undefined;
    const target = services.redirects.entryFailureUrl(survey, status, entrant, outcome ?? (name === 'completionsLimit' ? 'quota_full' : 'disqualified'));
    if (target) {
      await ctx.reply.redirect(target, 302);
      return true;
    }
    const title = name === 'banned' ? 'Not available' : 'This survey is not available';
    await ctx.reply.code(403).type('text/html; charset=utf-8').send(renderErrorPage(403, message, title));
    return true;
  }

  /** Closed, full or screened out: a replacement that takes them, else the reason's status. */
  async function turnAway(ctx: EntryContext, who: Door | null, name: StatusName, explicit?: number, outcome?: 'disqualified' | 'quota_full') {
    if (who) {
      const choice = await services.replacements.choose(ctx.survey, who);
      if (choice.survey) {
        const respondent = await services.replacements.move(ctx.survey, choice.survey, who, ctx.via !== 'api-create-user', choice.existing);
        ctx.request.log.info({ survey: ctx.survey.slug, replacement: choice.survey.slug }, 'moved to a replacement survey');
        services.metrics.replacementMoves.inc();
        return { survey: choice.survey, respondent };
      }
      if (choice.usedUp) return refuse(ctx, choice.usedUp, undefined, who);
    }
    return refuse(ctx, name, explicit, who, outcome);
  }

  const guard = async (ctx: EntryContext) => {
    const who = await identify(ctx);
    if (who && (who.blocked ?? (await services.blocklist.isBlocked(ctx.survey.accountId, who.username)))) return refuse(ctx, 'banned', undefined, who);
    const attempts = maxAttempts(ctx.survey.settings);
    if (attempts > 1 && who?.source && (await attemptsUsed(services.database.db, who.source.id)) >= attempts) return refuse(ctx, 'attemptsLimit', undefined, who);
    const closed = ctx.survey.state === 'closed'; // drafts stay reachable for trying them out
    const full = !closed && (await services.runtime.completesReached(ctx.survey));
    const rule = who ? matchEntryScreening(ctx.survey.settings.entryScreening as EntryRule[] | undefined, who.facts) : null;
    const turnedAway = ((closed || full) && !who?.test) || rule !== null;
    // Status 7 (one attempt, already used): never moved to a replacement. A browser entry goes to
    // the failure URL, or, on a survey that would let them in, to its page, which says they have
    // taken part. The create-user API only provisions: it answers their link unless turned away.
    if (attempts === 1 && who?.finished) {
      const failureUrl = services.redirects.entryFailureUrl(ctx.survey, statusCode(ctx.survey.settings, 'alreadyAttempted'));
      const refuse7 = BROWSER_VIAS.has(ctx.via) ? failureUrl !== null || turnedAway : ctx.via !== 'api-create-user' || turnedAway;
      if (refuse7) return refuse(ctx, 'alreadyAttempted', undefined, who);
    }
    if ((closed || full) && !who?.test) return turnAway(ctx, who, closed ? 'surveyClosed' : 'completionsLimit');
    if (rule) return turnAway(ctx, who, 'noReplacement', rule.status, rule.outcome);
    return false;
  };

  /**
   * A first entry, or a finished respondent let in again (attempts left), starts a session.
   * The create-user API only provisions the respondent and answers their link: no session yet.
   */
  const startSession = async (ctx: EntryContext & { respondent: RespondentRow }) => {
    // Mid-attempt (the common case: a member clicking their link again) there is nothing to start.
    if (ctx.via === 'api-create-user' || ctx.respondent.status === 'started') return;
    await services.runtime.startSession(ctx.survey, ctx.respondent.id);
  };

  return { guards: [guard], listeners: [startSession] };
}

/** Several domains' entry hooks, in order. */
export function combineEntryHooks(...all: EntryHooks[]): EntryHooks {
  return { guards: all.flatMap((h) => h.guards), listeners: all.flatMap((h) => h.listeners) };
}
