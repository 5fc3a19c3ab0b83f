/**
 * Records for admins: list and read records, move them through review levels, and export
 * the submissions as CSV or JSON (streamed).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { ListOf, ListQuery, Nullable, errors } from '../schemas.ts';
import { OUTCOMES, type Outcome } from '../../db/schema/index.ts';
import { submissionsCsv, submissionsJson } from '../../runtime/export.ts';
import { runSyncHooks } from '../../runtime/hooks.ts';
import type { RecordFilter } from '../../runtime/records.ts';
import { sendDownload } from '../download.ts';

const OutcomeEnum = Type.Union(OUTCOMES.map((o) => Type.Literal(o)));
const RecordParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const AnyObject = Type.Object({}, { additionalProperties: true });
const RecordView = Type.Object({
  id: Type.Integer(),
  respondent: Type.Object({ userId: Type.Integer(), username: Type.String() }),
  attempt: Type.Integer(),
  definitionVersion: Type.Integer(),
  answers: AnyObject,
  outcome: Nullable(Type.String()),
  status: Nullable(Type.Integer()),
  reviewLevel: Nullable(Type.String()),
  locked: Type.Boolean(),
  redirectUrl: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  submittedAt: Nullable(Type.String()),
});
const RecordDetail = Type.Object({
  ...RecordView.properties,
  labelledAnswers: Type.Array(Type.Object({ questionId: Type.String(), label: Type.String(), type: Type.String(), value: Type.Unknown() })),
  history: Type.Array(Type.Object({ id: Type.Integer(), actor: Type.String(), action: Type.String(), change: AnyObject, at: Type.String() })),
});
const LevelRef = Type.Object({ id: Type.String(), seq: Type.Integer(), name: Type.String(), lock: Type.Boolean() });
const ReviewView = Type.Object({
  record: RecordView,
  from: Nullable(LevelRef),
  to: LevelRef,
  lockBroken: Type.Boolean(),
  changed: Type.Boolean({ description: 'false when the record already was at that level (no event)' }),
  hooks: Type.Array(Type.Object({ endpointId: Type.String(), deliveryId: Nullable(Type.String()), ok: Type.Boolean(), statusCode: Nullable(Type.Integer()), error: Nullable(Type.String()) })),
});
const ExportQuery = Type.Object({ outcome: Type.Optional(OutcomeEnum) });

export function recordRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  const records = services.records;
  return async (app) => {
    app.get('/api/admin/surveys/:slug/records', {
      schema: {
        tags: ['records'], summary: "The survey's records", params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object({
          ...ListQuery.properties,
          status: Type.Optional(Type.Union([Type.Literal('in_progress'), Type.Literal('finished')])),
          outcome: Type.Optional(OutcomeEnum),
          reviewLevel: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a level id, or "none"' })),
          test: Type.Optional(Type.Boolean({ description: 'true: only test respondents; false: only real ones (what dashboards count)' })),
        }),
        response: { 200: ListOf(RecordView), ...errors(400, 401, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request);
      const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
      const q = request.query as RecordFilter & { limit?: number; cursor?: string };
      return records.list(survey, { status: q.status, outcome: q.outcome, reviewLevel: q.reviewLevel, test: q.test }, q.limit ?? 50, q.cursor);
    });

    app.get('/api/admin/surveys/:slug/records/:id', {
      schema: { tags: ['records'], summary: 'One record: labelled answers and history', params: RecordParams, response: { 200: RecordDetail, ...errors(400, 401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const { slug, id } = request.params as { slug: string; id: number };
      return records.get(await services.surveys.get(p.accountId, slug), id);
    });

    app.post('/api/admin/surveys/:slug/records/:id/review', {
      schema: {
        tags: ['records'], summary: 'Move a record to a review level', params: RecordParams,
        body: Type.Object({ level: Type.String({ minLength: 1, maxLength: 64, description: 'the id of one of the survey\'s reviewLevels' }) }, { additionalProperties: false }),
        response: { 200: ReviewView, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      // Any member may try; the level's roles decide.
      const p = await requireAdmin(request, 'viewer');
      const { slug, id } = request.params as { slug: string; id: number };
      const survey = await services.surveys.get(p.accountId, slug);
      const result = await records.review(survey, p, id, (request.body as { level: string }).level);
      const hooks = await runSyncHooks(services, result.syncDeliveryIds, request.log);
      return { record: result.record, from: result.from, to: result.to, lockBroken: result.lockBroken, changed: result.changed, hooks };
    });

    for (const format of ['csv', 'json'] as const) {
      app.get(`/api/admin/surveys/:slug/submissions/export.${format}`, {
        schema: {
          tags: ['records'], summary: `Every submission as ${format.toUpperCase()} (streamed)`,
          params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) }), querystring: ExportQuery,
          response: { 200: Type.String({ description: format === 'csv' ? 'text/csv' : 'application/json' }), ...errors(400, 401, 404) },
        },
      }, async (request, reply) => {
        const p = await requireAdmin(request);
        const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
        const filter = { outcome: (request.query as { outcome?: Outcome }).outcome };
        const body = format === 'csv' ? submissionsCsv(records, survey, filter) : submissionsJson(records, survey, filter);
        const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
        return sendDownload(reply, type, `${survey.slug}-submissions.${format}`, Readable.from(body));
      });
    }
  };
}
