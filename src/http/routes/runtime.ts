/**
 * The survey runtime over HTTP: the admin's definition (versioned) and the respondent's
 * session API (respondent bearer token or the survey's cookie, Origin-checked for writes).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { Nullable, SlugParams, errors } from '../schemas.ts';
import { AppError } from '../../errors.ts';
import { Definition, Question } from '../../runtime/definition.ts';
import { redirectResolver, runSyncHooks } from '../../runtime/hooks.ts';

const DefinitionView = Type.Object({ version: Type.Integer(), definition: Definition, createdAt: Type.String() });
const AnyObject = Type.Object({}, { additionalProperties: true });
const Hook = Type.Object({ endpointId: Type.String(), deliveryId: Nullable(Type.String()), ok: Type.Boolean(), statusCode: Nullable(Type.Integer()), error: Nullable(Type.String()) });
const Hooks = Type.Array(Hook, {
  description: 'Sync webhook results (TrialKit hooks); a failed one is shown to the respondent as a protocol error',
});
const OutcomeView = Type.Object({
  outcome: Type.String({ description: 'completed | disqualified | quota_full | exited' }),
  status: Nullable(Type.Integer({ description: 'inBrain-style status code' })),
  redirectUrl: Nullable(Type.String()),
});
const SessionView = Type.Object({
  survey: Type.Object({ slug: Type.String(), name: Type.String() }),
  respondent: Type.Object({ userId: Type.Integer(), username: Type.String() }),
  definitionVersion: Type.Integer(),
  definition: Type.Object({
    questions: Type.Array(Question),
    completion: Type.Object({ message: Type.Optional(Type.String()), redirectTimer: Type.Optional(Type.Integer()) }),
  }),
  answers: AnyObject,
  recordId: Nullable(Type.Integer()),
  state: Type.String({ description: 'not_started | in_progress | completed | disqualified | quota_full | exited' }),
  locked: Type.Boolean(),
  result: Nullable(OutcomeView),
});
const SaveBody = Type.Object(
  { answers: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { description: 'questionId → value; null clears' }) },
  { additionalProperties: false },
);
const SaveView = Type.Object({ recordId: Type.Integer(), answers: AnyObject, changed: Type.Array(Type.String()), hooks: Hooks });
const SubmitView = Type.Object({ ...OutcomeView.properties, recordId: Type.Integer(), hooks: Hooks });

export function runtimeRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  const runtime = services.runtime;

  /**
   * Closed surveys answer 403 before anything else (test respondents excepted: they may take
   * a closed survey); then the respondent must be signed in.
   */
  async function respondentOf(request: FastifyRequest) {
    const { slug } = request.params as { slug: string };
    const survey = await services.surveys.getPublic(slug);
    if (survey.state !== 'active') {
      const current = await services.respondentSessions.current(request, slug).catch(() => null);
      runtime.assertOpen(survey, current?.respondent);
    }
    return services.respondentSessions.require(request, slug);
  }

  return async (app) => {
    app.put('/api/admin/surveys/:slug/definition', {
      schema: {
        tags: ['runtime'], summary: 'Save the survey definition (a new version)', params: SlugParams, body: Definition,
        response: { 200: DefinitionView, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
      return runtime.saveDefinition(survey, request.body as Definition, p.userId);
    });

    app.get('/api/admin/surveys/:slug/definition', {
      schema: {
        tags: ['runtime'], summary: 'The current definition, or ?version=N', params: SlugParams,
        querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }),
        response: { 200: DefinitionView, ...errors(400, 401, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request);
      const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
      const version = (request.query as { version?: number }).version ?? survey.definitionVersion;
      const found = version > 0 ? await runtime.definitionVersion(survey.id, version) : null;
      if (!found) throw new AppError('NOT_FOUND', version > 0 ? `definition version ${version} not found` : 'this survey has no definition yet');
      return found;
    });

    app.get('/api/surveys/:slug/session', {
      schema: {
        tags: ['respondent'], summary: "The respondent's session: definition, saved answers, state", params: SlugParams,
        response: { 200: SessionView, ...errors(401, 403, 404) },
      },
    }, async (request) => {
      const { respondent, survey } = await respondentOf(request);
      return runtime.session(survey, respondent);
    });

    app.put('/api/surveys/:slug/session/answers', {
      schema: {
        tags: ['respondent'], summary: 'Save answers (partial, merged by question id)', params: SlugParams, body: SaveBody,
        response: { 200: SaveView, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const { respondent, survey } = await respondentOf(request);
      const saved = await runtime.saveAnswers(survey, respondent.id, (request.body as { answers: Record<string, unknown> }).answers);
      const hooks = await runSyncHooks(services, saved.syncDeliveryIds, request.log);
      return { recordId: saved.recordId, answers: saved.answers, changed: saved.changed, hooks };
    });

    app.post('/api/surveys/:slug/session/submit', {
      schema: {
        tags: ['respondent'], summary: 'Submit: required answers, screening, then quota', params: SlugParams,
        response: { 200: SubmitView, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const { respondent, survey } = await respondentOf(request);
      const result = await runtime.submit(survey, respondent.id, redirectResolver(services));
      const hooks = await runSyncHooks(services, result.syncDeliveryIds, request.log);
      return { ...result, hooks };
    });

    app.post('/api/surveys/:slug/session/exit', {
      schema: {
        tags: ['respondent'], summary: 'Leave the survey (outcome exited)', params: SlugParams,
        response: { 200: SubmitView, ...errors(401, 403, 404, 409) },
      },
    }, async (request) => {
      const { respondent, survey } = await respondentOf(request);
      const result = await runtime.exit(survey, respondent.id, redirectResolver(services));
      const hooks = await runSyncHooks(services, result.syncDeliveryIds, request.log);
      return { ...result, hooks };
    });
  
    app.post('/api/surveys/:slug/session/hooks/:deliveryId/retry', {
      schema: {
        tags: ['respondent'], summary: "Retry a failed sync hook of one of the respondent's own changes (the protocol error's retry button)",
        params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), deliveryId: Type.String({ format: 'uuid' }) }),
        response: { 200: Hook, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const { respondent, survey } = await respondentOf(request);
      const { deliveryId } = request.params as { deliveryId: string };
      // Only deliveries of this respondent's own events: a respondent cannot poke anyone else's.
      if (!(await runtime.ownsDelivery(survey.id, respondent.id, deliveryId))) throw new AppError('DELIVERY_NOT_FOUND', 'delivery not found');
      const r = await services.webhooks.resendInline(survey.id, deliveryId);
      return { endpointId: r.endpointId, deliveryId, ok: r.ok, statusCode: r.statusCode ?? null, error: r.error ?? null };
    });
  };
}
