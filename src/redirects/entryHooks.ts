/**
 * Signed entry links and pass-through parameters, plugged into the respondents domain's entry
 * routes (src/http/routes/respondentEntry.ts) through its EntryHooks:
 * - guard: with `requireSignedEntry`, the browser entry routes (`/surveys/{slug}?auth=…`,
 *   `?createUser=…`, `/a/{token}`) must carry a valid `hash` over PUBLIC_URL + path + query
 *   (inBrain's scheme). Missing → status 1, invalid → status 2: the respondent is sent to the
 *   failure URL (`outcomeUrls.disqualified`) with that status, or shown an error page. Nothing
 *   is written before this check passes. A respondent who already has an outcome and comes
 *   back through an auth link goes to the failure URL with status 7 (when there is one; else
 *   the survey page tells them they have taken part).
 * - listener: whitelisted entry parameters (`entryParams`) are stored on the respondent, per
 *   name the latest entry wins, so later requests (cookie or token) and redirects see them.
 */
import { maxAttempts } from '../runtime/attempts.ts';
import { sql, eq } from 'drizzle-orm';
import { OUTCOMES } from '../db/schema/records.ts';
import type { EntryContext, EntryHooks } from '../http/routes/respondentEntry.ts';
import type { Services } from '../services.ts';
import { respondents } from '../db/schema/index.ts';
import { renderErrorPage } from '../http/html.ts';
import { captureEntryParams } from './entryParams.ts';
import { verifyEntryLink } from './signing.ts';
import { statusCode } from './statusCodes.ts';


/** The routes a third party links browsers to; API entry points are authenticated otherwise. */
const SIGNED_VIAS = new Set<EntryContext['via']>(['auth', 'short', 'createUser']);

export function redirectEntryHooks(services: Services): EntryHooks {
  const guard = async (ctx: EntryContext): Promise<boolean> => {
    if (!SIGNED_VIAS.has(ctx.via)) return false;
    return (await refuseUnsigned(ctx)) || (await refuseFinished(ctx));
  };

  const refuseUnsigned = async (ctx: EntryContext): Promise<boolean> => {
    const { survey, request, reply } = ctx;
    if (survey.settings.requireSignedEntry !== true) return false;
    const secret = services.surveys.linkSigningSecret(survey);
    // request.url is the path and query exactly as received, which is what the third party signed.
    const check = secret ? verifyEntryLink(services.config.publicUrl + request.url, secret) : 'invalid';
    if (check === 'valid') return false;
    const status = statusCode(survey.settings, check === 'missing' ? 'missingSignature' : 'invalidSignature');
    request.log.info({ survey: survey.slug, status }, 'signed entry refused');
    const target = services.redirects.entryFailureUrl(survey, status);
    reply.header('cache-control', 'no-store');
    if (target) {
      await reply.redirect(target, 302);
      return true;
    }
    const message = check === 'missing'
      ? 'This link must be signed, and it carries no signature (status 1). Please go back to the site that sent you here.'
      : 'This link\'s signature is not valid (status 2): it may have been changed or copied incompletely. Please go back to the site that sent you here.';
    await reply.code(403).type('text/html; charset=utf-8').send(renderErrorPage(403, message, 'This link cannot be used'));
    return true;
  };

  /** inBrain status 7 (already attempted) for auth links of respondents with an outcome. */
  const refuseFinished = async (ctx: EntryContext): Promise<boolean> => {
    if (ctx.via !== 'auth' && ctx.via !== 'short') return false;
    if (maxAttempts(ctx.survey.settings) > 1) return false; // attempts: the panel guard decides (status 10)
    const target = services.redirects.entryFailureUrl(ctx.survey, statusCode(ctx.survey.settings, 'alreadyAttempted'));
    if (!target) return false;
    const respondent = ctx.known ?? (await knownByToken(ctx));
    if (!respondent || respondent.surveyId !== ctx.survey.id || !(OUTCOMES as readonly string[]).includes(respondent.status)) return false;
    ctx.reply.header('cache-control', 'no-store');
    await ctx.reply.redirect(target, 302);
    return true;
  };

  const knownByToken = async (ctx: EntryContext) => {
    const raw = ctx.via === 'auth' ? (ctx.request.query as { auth?: unknown }).auth : (ctx.request.params as { token?: unknown }).token;
    const token = Array.isArray(raw) ? raw[0] : raw;
    return typeof token === 'string' ? (await services.respondents.findByToken(token))?.respondent : undefined;
  };

  const capture = async (ctx: EntryContext & { respondent: { id: number; entryParams: Record<string, string>; entrySurveyId: number | null } }) => {
    const whitelist = ctx.survey.settings.entryParams as string[] | undefined;
    const captured = captureEntryParams(ctx.request.query as Record<string, unknown>, whitelist);
    const firstEntry = ctx.respondent.entrySurveyId === null;
    // Nothing new (a member clicking the same link again): no write.
    if (!firstEntry && Object.entries(captured).every(([k, v]) => ctx.respondent.entryParams[k] === v)) return;
    // One statement: merging in SQL keeps concurrent entries of one respondent from losing each other's names.
    await services.database.db
      .update(respondents)
      .set({
        entryParams: sql`${respondents.entryParams} || ${JSON.stringify(captured)}::jsonb`,
        entrySurveyId: sql`coalesce(${respondents.entrySurveyId}, ${ctx.survey.id})`,
      })
      .where(eq(respondents.id, ctx.respondent.id));
    Object.assign(ctx.respondent.entryParams, captured);
  };

  return { guards: [guard], listeners: [capture] };
}
