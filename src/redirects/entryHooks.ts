/**
 * Signed entry links and pass-through parameters, plugged into the respondents domain's entry
 * routes (src/http/routes/respondentEntry.ts) through its EntryHooks:
 * - guard: with `requireSignedEntry`, the browser entry routes (`/surveys/{slug}?auth=…`,
 *   `?createUser=…`, `/a/{token}`) must carry a valid `hash` over PUBLIC_URL + path + query
 *   (inBrain's scheme). Missing → status 1, invalid → status 2: the respondent is sent to the
 *   failure URL (`outcomeUrls.disqualified`) with that status, or shown an error page. Nothing
 *   is written before this check passes. (Status 7 and the other panel-mode refusals come after
 *   it, in src/redirects/panelHooks.ts.)
 * - listener: whitelisted entry parameters (`entryParams`) are stored on the respondent, per
 *   name the latest entry wins, so later requests (cookie or token) and redirects see them.
 */
import { sql, eq } from 'drizzle-orm';
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
    return refuseUnsigned(ctx);
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
