import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { AppError } from '../../errors.ts';
import { errors } from '../schemas.ts';

export function healthRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', {
      schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Type.Object({ ok: Type.Boolean() }) } },
    }, async () => ({ ok: true }));

    app.get('/readyz', {
      schema: {
        tags: ['operations'],
        summary: 'The database is reachable and every migration is applied',
        response: { 200: Type.Object({ ok: Type.Boolean(), database: Type.String() }), ...errors(503) },
      },
    }, async () => {
      try {
        await services.database.ping();
      } catch {
        throw new AppError('DATABASE_UNAVAILABLE', 'the database is unreachable');
      }
      if (!(await services.database.migrationsApplied())) throw new AppError('NOT_READY', 'migrations are not applied yet');
      return { ok: true, database: services.database.kind };
    });

    app.get('/metrics', {
      schema: { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: Type.String() } },
    }, async (_req, reply) => {
      reply.type(services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    });
  };
}
