import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { ListOf, ListQuery, Nullable, errors } from '../schemas.ts';

const TokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  createdAt: Type.String(),
  expiresAt: Nullable(Type.String()),
  lastUsedAt: Nullable(Type.String()),
});

export function tokenRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/admin/tokens', {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token (shown once); it acts with your role in the current account',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), expiresAt: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ ...TokenView.properties, token: Type.String() }), ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'reviewer');
      const body = request.body as { name: string; expiresAt?: string };
      const { token, view } = await services.accounts.createToken(p.accountId, p.userId, p.role, body.name, body.expiresAt ? new Date(body.expiresAt) : null);
      reply.code(201);
      return { ...view, token };
    });

    app.get('/api/admin/tokens', {
      schema: { tags: ['tokens'], summary: "The account's API tokens (never the secret)", querystring: ListQuery, response: { 200: ListOf(TokenView), ...errors(400, 401, 403) } },
    }, async (request) => {
      const p = await requireAdmin(request, 'reviewer');
      const q = request.query as { limit?: number; cursor?: string };
      return services.accounts.listTokens(p.accountId, q.limit ?? 50, q.cursor);
    });

    app.delete('/api/admin/tokens/:id', {
      schema: { tags: ['tokens'], summary: 'Revoke an API token', params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'reviewer');
      await services.accounts.revokeToken(p.accountId, (request.params as { id: string }).id);
      return reply.code(204).send();
    });
  };
}
