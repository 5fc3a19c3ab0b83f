/** The delivery log of webhook endpoints: list, detail, retry and replay. */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { ListOf, errors } from '../schemas.ts';
import { DeliveryDetail, DeliveryListQuery, DeliveryParams, DeliverySummary, EndpointParams, ReplayBody } from '../../webhooks/schemas.ts';

export function webhookDeliveryRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  const webhooks = services.webhooks;
  return async (app) => {
    app.get('/api/admin/surveys/:slug/webhooks/:id/deliveries', {
      schema: {
        tags: ['webhooks'],
        summary: "An endpoint's deliveries, newest first (filter by status, event type, time)",
        params: EndpointParams,
        querystring: DeliveryListQuery,
        response: { 200: ListOf(DeliverySummary), ...errors(400, 401, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request);
      const { slug, id } = request.params as { slug: string; id: string };
      return webhooks.list(p.accountId, slug, id, request.query as DeliveryListQuery);
    });

    app.get('/api/admin/surveys/:slug/deliveries/:deliveryId', {
      schema: { tags: ['webhooks'], summary: 'One delivery with every attempt', params: DeliveryParams, response: { 200: DeliveryDetail, ...errors(400, 401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const { slug, deliveryId } = request.params as { slug: string; deliveryId: string };
      return webhooks.detail(p.accountId, slug, deliveryId);
    });

    app.post('/api/admin/surveys/:slug/deliveries/:deliveryId/retry', {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a delivery again (queued now, with a fresh retry budget)',
        params: DeliveryParams,
        response: { 202: DeliveryDetail, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, deliveryId } = request.params as { slug: string; deliveryId: string };
      return reply.code(202).send(await webhooks.retry(p.accountId, slug, deliveryId));
    });

    app.post('/api/admin/surveys/:slug/webhooks/:id/replay', {
      schema: {
        tags: ['webhooks'],
        summary: "Re-send an endpoint's existing deliveries created in [since, until)",
        params: EndpointParams,
        body: ReplayBody,
        response: { 202: Type.Object({ replayed: Type.Integer() }), ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, id } = request.params as { slug: string; id: string };
      return reply.code(202).send(await webhooks.replay(p.accountId, slug, id, request.body as ReplayBody));
    });
  };
}
