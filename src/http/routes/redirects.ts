/**
 * Redirects out over HTTP: the respondent's `/surveys/{slug}/finish` (302 to the computed,
 * signed target) and the admin preview. The URL is computed on the server; the browser never
 * sees the signing secret.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { SlugParams, errors } from '../schemas.ts';
import { escapeHtml } from '../html.ts';
import { OUTCOME_NAMES } from '../../surveys/settings.ts';

const PreviewBody = Type.Object(
  {
    outcome: Type.Union(OUTCOME_NAMES.map((o) => Type.Literal(o))),
    username: Type.String({ minLength: 1, maxLength: 1024, description: "The respondent's third-party identifier; an unknown one previews with a stand-in" }),
  },
  { additionalProperties: false },
);

const PreviewView = Type.Object({
  url: Type.Union([Type.String(), Type.Null()], { description: 'null = the built-in completion page' }),
  target: Type.Union([Type.Literal('respondent'), Type.Literal('outcomeUrl'), Type.Literal('followUpUrl'), Type.Literal('builtin')]),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  reward: Type.Union([Type.String(), Type.Null()]),
  rewardId: Type.Union([Type.String(), Type.Null()], { description: 'A sample: each real outcome gets a fresh one' }),
  respondentFound: Type.Boolean(),
});

const BUILTIN_MESSAGES: Record<string, [string, string]> = {
  completed: ['Thank you', 'Your answers have been submitted. You can close this page.'],
  disqualified: ['Thank you', 'Thank you for your time. This survey is not a match for you, so it ends here.'],
  quota_full: ['Thank you', 'Thank you for your time. This survey has all the answers it needs, so it ends here.'],
  exited: ['You have left the survey', 'You have left the survey. You can close this page.'],
};

function builtinPage(outcome: string): string {
  const [title, message] = BUILTIN_MESSAGES[outcome] ?? BUILTIN_MESSAGES.completed;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p data-outcome="${escapeHtml(outcome)}">${escapeHtml(message)}</p></main></body></html>`;
}

export function redirectRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/admin/surveys/:slug/redirects/preview', {
      schema: {
        tags: ['redirects'],
        summary: 'The URL a respondent would be sent to for an outcome (signed when the survey signs links)',
        params: SlugParams,
        body: PreviewBody,
        response: { 200: PreviewView, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      // Admin, not viewer: with redirectIdentifier=authToken the URL carries the respondent's credential.
      const p = await requireAdmin(request, 'admin');
      const { slug } = request.params as { slug: string };
      return services.redirects.preview(p.accountId, slug, request.body as { outcome: string; username: string });
    });

    app.get('/surveys/:slug/finish', {
      schema: {
        tags: ['redirects'],
        summary: "Sends the signed-in respondent to their outcome's target (302), or back to the survey while there is no outcome",
        params: SlugParams,
        response: {
          200: Type.String({ description: 'The built-in completion page (no target configured)' }),
          302: Type.Null({ description: 'Location: the target URL, or /surveys/{slug} while the respondent has no outcome' }),
          401: Type.String({ description: 'HTML: not signed in to this survey' }),
          404: Type.String({ description: 'HTML: no such survey' }),
        },
      },
      config: { errorShape: 'html' },
    }, async (request, reply) => {
      const { slug } = request.params as { slug: string };
      const { survey, respondent } = await services.respondentSessions.require(request, slug);
      const target = await services.redirects.finishTarget(survey, respondent);
      // The Location is respondent-specific (and may be signed): never cache it.
      reply.header('cache-control', 'no-store');
      if (target.kind === 'pending') return reply.redirect(`/surveys/${encodeURIComponent(survey.slug)}`, 302);
      if (target.kind === 'redirect') return reply.redirect(target.url, 302);
      return reply.code(200).type('text/html; charset=utf-8').send(builtinPage(target.outcome));
    });
  };
}
