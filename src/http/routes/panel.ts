/**
 * Panel mode's admin API: the per-account blocklist (status 9 at entry) and the per-survey
 * rewards export. Reads need `viewer`… except the export, which reveals payouts (`admin`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { Nullable, SlugParams, errors } from '../schemas.ts';
import { AppError } from '../../errors.ts';
import { rewardsCsv } from '../../redirects/rewardsExport.ts';
import { sendDownload } from '../download.ts';

const Identifier = Type.String({ minLength: 1, maxLength: 1024, description: "A respondent's third-party identifier (username)" });
const BlockEntry = Type.Object({ identifier: Type.String(), reason: Nullable(Type.String()), createdAt: Type.String() });
const BlockBody = Type.Object({ identifier: Identifier, reason: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))) }, { additionalProperties: false });

export function panelRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/admin/blocklist', {
      schema: {
        tags: ['panel'], summary: 'Block a third-party identifier in this account: its entries are refused with status 9 (banned)', body: BlockBody,
        response: { 200: BlockEntry, 201: BlockEntry, ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const body = request.body as { identifier: string; reason?: string | null };
      const { entry, created } = await services.blocklist.add(p.accountId, body.identifier, body.reason ?? null, p.userId);
      return reply.code(created ? 201 : 200).send(entry);
    });

    app.get('/api/admin/blocklist', {
      schema: {
        tags: ['panel'], summary: "The account's blocked identifiers",
        response: { 200: Type.Object({ items: Type.Array(BlockEntry) }), ...errors(401, 403) },
      },
    }, async (request) => {
      const p = await requireAdmin(request);
      return { items: await services.blocklist.list(p.accountId) };
    });

    app.delete('/api/admin/blocklist/:identifier', {
      schema: {
        tags: ['panel'], summary: 'Unblock an identifier', params: Type.Object({ identifier: Identifier }),
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      if (!(await services.blocklist.remove(p.accountId, (request.params as { identifier: string }).identifier))) {
        throw new AppError('NOT_FOUND', 'this identifier is not blocked');
      }
      return reply.code(204).send();
    });

    app.get('/api/admin/surveys/:slug/rewards.csv', {
      schema: {
        tags: ['panel'],
        summary: 'Every record with an outcome and its reward: record_id,user_id,username,outcome,status,reward,reward_id,test,submitted_at,attempt,entry_survey (streamed)',
        description: 'With `since`/`until`, only outcomes submitted in [since, until): a reconciliation period.',
        params: SlugParams,
        querystring: Type.Object({
          since: Type.Optional(Type.String({ format: 'date-time', description: 'Outcomes submitted at or after this instant' })),
          until: Type.Optional(Type.String({ format: 'date-time', description: 'Outcomes submitted before this instant' })),
          rewarded: Type.Optional(Type.Boolean({ description: 'true: only outcomes that carried a reward' })),
        }, { additionalProperties: false }),
        response: { 200: Type.String({ description: 'text/csv' }), ...errors(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
      const q = request.query as { since?: string; until?: string; rewarded?: boolean };
      const period = { since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined, rewarded: q.rewarded === true };
      return sendDownload(reply, 'text/csv; charset=utf-8', `${survey.slug}-rewards.csv`, rewardsCsv(services.database.db, survey, period));
    });
  };
}
