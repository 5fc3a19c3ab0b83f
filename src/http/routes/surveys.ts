import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { ListOf, ListQuery, SlugParams, errors } from '../schemas.ts';
import { SurveyCreate, SurveyView, SurveyWritable } from '../../surveys/settings.ts';

export function surveyRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/admin/surveys', {
      schema: { tags: ['surveys'], summary: 'Create a survey', body: SurveyCreate, response: { 201: SurveyView, ...errors(400, 401, 403, 409) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      reply.code(201);
      return services.surveys.create(p.accountId, request.body as SurveyCreate);
    });

    app.get('/api/admin/surveys', {
      schema: { tags: ['surveys'], summary: "The account's surveys", querystring: ListQuery, response: { 200: ListOf(SurveyView), ...errors(400, 401) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const q = request.query as { limit?: number; cursor?: string };
      return services.surveys.list(p.accountId, q.limit ?? 50, q.cursor);
    });

    app.get('/api/admin/surveys/:slug', {
      schema: { tags: ['surveys'], summary: 'One survey', params: SlugParams, response: { 200: SurveyView, ...errors(401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      return services.surveys.view(await services.surveys.get(p.accountId, (request.params as { slug: string }).slug));
    });

    app.patch('/api/admin/surveys/:slug', {
      schema: { tags: ['surveys'], summary: "Change a survey's settings (null clears one)", params: SlugParams, body: SurveyWritable, response: { 200: SurveyView, ...errors(400, 401, 403, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      return services.surveys.update(p.accountId, (request.params as { slug: string }).slug, request.body as SurveyWritable);
    });

    app.delete('/api/admin/surveys/:slug', {
      schema: { tags: ['surveys'], summary: 'Delete a survey and everything in it', params: SlugParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      await services.surveys.remove(p.accountId, (request.params as { slug: string }).slug);
      return reply.code(204).send();
    });
  };
}
