import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { Role } from '../../db/schema/index.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { ListOf, ListQuery, errors } from '../schemas.ts';

const RoleSchema = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('reviewer'), Type.Literal('viewer')]);
const Member = Type.Object({ id: Type.Integer(), email: Type.String(), role: Type.String(), createdAt: Type.String() });
// A pattern, not Type.Integer: coercion would turn '1e309' into Infinity and let it through.
const IdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });

export function userRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/admin/users', {
      schema: {
        tags: ['users'],
        summary: 'Add a user to the current account (owner/admin)',
        body: Type.Object({
          email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 }),
          password: Type.String({ minLength: 8, maxLength: 1024 }),
          role: RoleSchema,
        }, { additionalProperties: false }),
        response: { 201: Member, ...errors(400, 401, 403, 409) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const body = request.body as { email: string; password: string; role: Role };
      reply.code(201);
      return services.accounts.addMember(p.accountId, p.role, body);
    });

    app.get('/api/admin/users', {
      schema: { tags: ['users'], summary: 'Users of the current account', querystring: ListQuery, response: { 200: ListOf(Member), ...errors(400, 401, 403) } },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const q = request.query as { limit?: number; cursor?: string };
      return services.accounts.listMembers(p.accountId, q.limit ?? 50, q.cursor);
    });

    app.patch('/api/admin/users/:id', {
      schema: {
        tags: ['users'],
        summary: "Change a user's role in the current account",
        params: IdParams,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: Member, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const id = Number((request.params as { id: string }).id);
      return services.accounts.changeRole(p.accountId, p.role, id, (request.body as { role: Role }).role);
    });

    app.delete('/api/admin/users/:id', {
      schema: { tags: ['users'], summary: 'Remove a user from the current account', params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404, 409) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      await services.accounts.removeMember(p.accountId, p.role, Number((request.params as { id: string }).id));
      return reply.code(204).send();
    });
  };
}
