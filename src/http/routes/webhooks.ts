/** Webhook endpoints of a survey: CRUD, secret rotation and the test button. */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { ListOf, ListQuery, SlugParams, errors } from '../schemas.ts';
import { AttemptView, DeliveryDetail, EndpointCreate, EndpointParams, EndpointPatch, EndpointView, EndpointWithSecret } from '../../webhooks/schemas.ts';
import { webhookDeliveryRoutes } from './webhookDeliveries.ts';

type Params = { slug: string; id: string };

export function webhookRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  const endpoints = services.webhooks.endpoints;
  return async (app) => {
    app.post('/api/admin/surveys/:slug/webhooks', {
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook endpoint (an hmac endpoint answers its secret, this once)',
        params: SlugParams,
        body: EndpointCreate,
        response: { 201: EndpointWithSecret, ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const created = await endpoints.create(p.accountId, (request.params as { slug: string }).slug, request.body as EndpointCreate);
      return reply.code(201).send(created);
    });

    app.get('/api/admin/surveys/:slug/webhooks', {
      schema: { tags: ['webhooks'], summary: "The survey's webhook endpoints", params: SlugParams, querystring: ListQuery, response: { 200: ListOf(EndpointView), ...errors(400, 401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const q = request.query as { limit?: number; cursor?: string };
      return endpoints.list(p.accountId, (request.params as { slug: string }).slug, q.limit ?? 50, q.cursor);
    });

    app.get('/api/admin/surveys/:slug/webhooks/:id', {
      schema: { tags: ['webhooks'], summary: 'One webhook endpoint', params: EndpointParams, response: { 200: EndpointView, ...errors(400, 401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const { slug, id } = request.params as Params;
      return endpoints.view((await endpoints.row(p.accountId, slug, id)).row);
    });

    app.patch('/api/admin/surveys/:slug/webhooks/:id', {
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint (switching auth to hmac answers the new secret, this once)',
        params: EndpointParams,
        body: EndpointPatch,
        response: { 200: EndpointWithSecret, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, id } = request.params as Params;
      return endpoints.update(p.accountId, slug, id, request.body as EndpointPatch);
    });

    app.delete('/api/admin/surveys/:slug/webhooks/:id', {
      schema: { tags: ['webhooks'], summary: 'Delete a webhook endpoint and its delivery log', params: EndpointParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, id } = request.params as Params;
      await endpoints.remove(p.accountId, slug, id);
      return reply.code(204).send();
    });

    app.post('/api/admin/surveys/:slug/webhooks/:id/rotate-secret', {
      schema: {
        tags: ['webhooks'],
        summary: 'New hmac secret (answered this once); the old one also signs for 24 h',
        params: EndpointParams,
        response: { 200: EndpointWithSecret, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, id } = request.params as Params;
      return endpoints.rotateSecret(p.accountId, slug, id);
    });

    app.post('/api/admin/surveys/:slug/webhooks/:id/test', {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a ping event to the endpoint now and report the attempt',
        params: EndpointParams,
        response: { 200: Type.Object({ ok: Type.Boolean(), delivery: DeliveryDetail, attempt: AttemptView }), ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, id } = request.params as Params;
      return services.webhooks.sendTest(p.accountId, slug, id);
    });

    await app.register(webhookDeliveryRoutes(services, requireAdmin));
  };
}
