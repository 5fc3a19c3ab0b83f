/**
 * The respondents admin API (all under /api/admin/surveys/{slug}): one-by-one CRUD, token
 * rotation, CSV import as a job, and streaming exports. Reads need `viewer`; everything that
 * writes or reveals auth tokens needs `admin` (a viewer's lists carry no tokens).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { Nullable, SlugParams, errors } from '../schemas.ts';
import { AppError } from '../../errors.ts';
import { roleAtLeast } from '../../accounts/service.ts';
import { LABELS, LIMITS } from '../../respondents/fields.ts';
import { CREATED_VIA, RESPONDENT_STATUSES } from '../../db/schema/index.ts';
import type { RespondentChanges, RespondentCreate } from '../../respondents/service.ts';
import { MAX_IMPORT_BYTES, type OnExisting } from '../../respondents/csvImport.ts';
import { exportCsv, exportJsonLines } from '../../respondents/export.ts';
import { sendDownload } from '../download.ts';

const Status = Type.Union(RESPONDENT_STATUSES.map((s) => Type.Literal(s)));
const Via = Type.Union(CREATED_VIA.map((s) => Type.Literal(s)));
const labelsOf = <T>(make: () => T) => Object.fromEntries(LABELS.map((l) => [l, make()])) as Record<(typeof LABELS)[number], T>;

export const RespondentView = Type.Object({
  userId: Type.Integer({ description: "The platform's id" }),
  username: Type.String({ description: "The third party's identifier (unique per survey, exact match)" }),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  redirectUrl: Nullable(Type.String({ description: 'Respondent-specific return URL' })),
  ...labelsOf(() => Nullable(Type.String())),
  customFields: Type.Record(Type.String(), Type.String()),
  status: Type.String({ description: RESPONDENT_STATUSES.join(' | ') }),
  createdVia: Type.String({ description: CREATED_VIA.join(' | ') }),
  hasPassword: Type.Boolean(),
  test: Type.Boolean(),
  entrySurvey: Nullable(Type.String({ description: 'Slug of the survey they came in through: another one when a replacement survey took them (panel mode); null until they first come in' })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  authToken: Type.Optional(Type.String({ description: 'Admins only' })),
  authUrl: Type.Optional(Type.String({ description: '{PUBLIC_URL}/surveys/{slug}?auth={token} (signed when the survey requires signed entry links)' })),
  shortAuthUrl: Type.Optional(Type.String({ description: '{PUBLIC_URL}/a/{token}' })),
});

const Writable = {
  name: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.name }))),
  email: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.email }))),
  phone: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.phone }))),
  redirectUrl: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.url }))),
  ...labelsOf(() => Type.Optional(Nullable(Type.String({ maxLength: LIMITS.label })))),
  customFields: Type.Optional(Type.Record(Type.String({ maxLength: LIMITS.customFieldName }), Nullable(Type.String({ maxLength: LIMITS.customFieldValue })), {
    description: 'Merged into the stored fields; null removes one',
  })),
  password: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.passwordMax, description: `At least ${LIMITS.passwordMin} characters; null removes it` }))),
};
const CreateBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 1024 }),
  ...Writable,
  test: Type.Optional(Type.Boolean({ description: 'A test respondent: may take a closed or full survey, never counts toward quotas; its events carry "test": true' })),
}, { additionalProperties: false });
const PatchBody = Type.Object({ ...Writable, status: Type.Optional(Status) }, { additionalProperties: false });
const UserParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), username: Type.String({ minLength: 1, maxLength: 1024 }) });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
  status: Type.Optional(Status),
  createdVia: Type.Optional(Via),
  test: Type.Optional(Type.Boolean({ description: 'true: only test respondents; false: only real ones (what dashboards count)' })),
  search: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Case-insensitive substring of username, name or email' })),
  ...labelsOf(() => Type.Optional(Type.String({ maxLength: LIMITS.label, description: 'Exact label value' }))),
});

export const ImportErrorView = Type.Object({
  line: Nullable(Type.Integer({ description: 'File line number (the header is line 1)' })),
  column: Nullable(Type.String()),
  code: Type.String(),
  message: Type.String(),
});
export const JobView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  state: Type.String({ description: 'queued | running | succeeded | failed' }),
  phase: Nullable(Type.String({ description: 'While running: validating, then writing' })),
  processed: Type.Integer(),
  total: Nullable(Type.Integer()),
  errors: Type.Array(ImportErrorView),
  result: Nullable(Type.Object({}, { additionalProperties: true })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const ImportQuery = Type.Object({
  onExisting: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('skip'), Type.Literal('update')], { default: 'error' })),
  wait: Type.Optional(Type.Boolean({ default: false, description: 'Wait (up to 25 s) and answer 200 with the finished job' })),
});

/** How long `?wait=true` waits before answering 202 anyway. */
const WAIT_MS = 25_000;

export function respondentRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  const r = services.respondents;
  return async (app) => {
    const RespondentRef = RespondentView;

    // The import reads its body as a stream: CSV as is, or one file of a multipart form.
    app.addContentTypeParser(['text/csv', 'application/csv', 'text/plain'], (_req, payload, done) => done(null, payload));
    await app.register(multipart, { limits: { files: 1, fileSize: MAX_IMPORT_BYTES, fields: 10, parts: 20 } });

    app.post('/api/admin/surveys/:slug/respondents', {
      schema: {
        tags: ['respondents'], summary: 'Create a respondent (emits respondent.created)', params: SlugParams, body: CreateBody,
        response: { 201: RespondentRef, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const view = await r.create(p.accountId, (request.params as { slug: string }).slug, request.body as RespondentCreate);
      return reply.code(201).send(view);
    });

    app.get('/api/admin/surveys/:slug/respondents', {
      schema: {
        tags: ['respondents'], summary: 'List respondents (cursor pagination; filter by status, label, search)', params: SlugParams, querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(RespondentRef), nextCursor: Nullable(Type.String()) }), ...errors(400, 401, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request);
      const q = request.query as Record<string, string | number | undefined>;
      const labels: Record<string, string> = {};
      for (const l of LABELS) if (typeof q[l] === 'string') labels[l] = q[l] as string;
      return r.list(p.accountId, (request.params as { slug: string }).slug, {
        limit: (q.limit as number) ?? 50,
        cursor: q.cursor as string | undefined,
        status: q.status as never,
        createdVia: q.createdVia as never,
        test: q.test as unknown as boolean | undefined,
        search: q.search as string | undefined,
        labels,
      }, roleAtLeast(p.role, 'admin'));
    });

    app.get('/api/admin/surveys/:slug/respondents/export.csv', {
      schema: {
        tags: ['respondents'],
        summary: 'Every respondent as CSV: user_id,username,name,status,auth_token,auth_url,short_auth_url,redirect_url,l1..l10 (streamed)',
        params: SlugParams,
        response: { 200: Type.String({ description: 'text/csv' }), ...errors(401, 403, 404) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
      return sendDownload(reply, 'text/csv; charset=utf-8', `${survey.slug}-respondents.csv`, exportCsv(services.database.db, r, survey));
    });

    app.get('/api/admin/surveys/:slug/respondents/export.json', {
      schema: {
        tags: ['respondents'], summary: 'Every respondent as JSON lines (one respondent object per line, streamed)', params: SlugParams,
        response: { 200: Type.String({ description: 'application/x-ndjson' }), ...errors(401, 403, 404) },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const survey = await services.surveys.get(p.accountId, (request.params as { slug: string }).slug);
      return sendDownload(reply, 'application/x-ndjson; charset=utf-8', `${survey.slug}-respondents.jsonl`, exportJsonLines(services.database.db, r, survey));
    });

    app.post('/api/admin/surveys/:slug/respondents/import', {
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        tags: ['respondents'],
        summary: 'Import respondents from CSV (text/csv body or a multipart file), all or nothing, as a job',
        description:
          'Header row required. Columns: username (required), password, name, email, phone, redirect url (or redirect_url, redirectUrl), l1..l10; ' +
          'any other column becomes a custom field and is listed back in the result. Every row is validated first; if any fails, nothing is written ' +
          'and the job lists every error as {line, column, code, message} (the first 1,000). Otherwise all rows are written in one transaction.',
        params: SlugParams,
        querystring: ImportQuery,
        consumes: ['text/csv', 'multipart/form-data'],
        response: {
          200: JobView,
          202: Type.Object({ jobId: Type.String() }),
          ...errors(400, 401, 403, 404, 413, 415),
        },
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const { slug } = request.params as { slug: string };
      const q = request.query as { onExisting?: OnExisting; wait?: boolean };
      await services.surveys.get(p.accountId, slug);
      let stream: Readable;
      if (request.isMultipart()) {
        const file = await request.file();
        if (!file) throw new AppError('VALIDATION_FAILED', 'the form has no file', { fields: [{ path: '/body/file', message: 'is required' }] });
        stream = file.file;
      } else if (request.body && typeof (request.body as Readable).pipe === 'function') {
        stream = request.body as Readable;
      } else {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the CSV as a text/csv body or as a multipart/form-data file');
      }
      const file = await services.importer.spool(stream);
      if ((stream as { truncated?: boolean }).truncated) {
        await file.cleanup();
        throw new AppError('PAYLOAD_TOO_LARGE', `the file is over ${MAX_IMPORT_BYTES} bytes`);
      }
      const job = await services.importer.start(p.accountId, slug, file, q.onExisting ?? 'error');
      if (q.wait) {
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([job.done, new Promise<null>((res) => (timer = setTimeout(() => res(null), WAIT_MS)))]);
        clearTimeout(timer);
        if (finished) return reply.code(200).send(finished);
      }
      return reply.code(202).header('location', `/api/admin/jobs/${job.view.id}`).send({ jobId: job.view.id });
    });

    app.get('/api/admin/jobs/:id', {
      schema: {
        tags: ['respondents'], summary: 'A job (CSV import): state, progress, errors and result',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: JobView, ...errors(401, 403, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      return services.jobs.get(p.accountId, (request.params as { id: string }).id);
    });

    app.get('/api/admin/surveys/:slug/respondents/:username', {
      schema: { tags: ['respondents'], summary: 'One respondent (by username, URL-encoded)', params: UserParams, response: { 200: RespondentRef, ...errors(401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const { slug, username } = request.params as { slug: string; username: string };
      const { row, survey } = await r.get(p.accountId, slug, username);
      return r.view(row, survey, { withToken: roleAtLeast(p.role, 'admin') });
    });

    app.patch('/api/admin/surveys/:slug/respondents/:username', {
      schema: {
        tags: ['respondents'], summary: 'Change a respondent (null clears a value; emits respondent.updated when something changed)',
        params: UserParams, body: PatchBody, response: { 200: RespondentRef, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, username } = request.params as { slug: string; username: string };
      return r.update(p.accountId, slug, username, request.body as RespondentChanges);
    });

    app.delete('/api/admin/surveys/:slug/respondents/:username', {
      schema: { tags: ['respondents'], summary: 'Delete a respondent and their records', params: UserParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, username } = request.params as { slug: string; username: string };
      await r.remove(p.accountId, slug, username);
      return reply.code(204).send();
    });

    app.post('/api/admin/surveys/:slug/respondents/:username/auth-token', {
      schema: {
        tags: ['respondents'], summary: 'Rotate the auth token: the old one (and sessions made with it) stop working at once',
        params: UserParams, response: { 200: RespondentRef, ...errors(401, 403, 404) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const { slug, username } = request.params as { slug: string; username: string };
      return r.rotateToken(p.accountId, slug, username);
    });
  };
}
