/**
 * Inbound webhooks over HTTP: the public `GET|POST /webhooks/{accountId}/{key}/{auth}/{name}`
 * (Webankieta's URL form and answers) and the admin routes for keys and the audit log.
 *
 * Order of checks on the public URL: method (405), credentials (401) and the key's rate limit
 * (429) in onRequest — before any body is read, so an unauthenticated caller cannot make us
 * parse 64 KB — then the body (413, 415, 400), then the name (404), parameters (400), survey
 * and respondent (404). Every outcome is written to the audit log.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { sendError, toAppError } from '../plugins/errors.ts';
import { ListOf, ListQuery, Nullable, errors } from '../schemas.ts';
import { accountIdOf } from '../../inbound/keys.ts';
import type { CallContext } from '../../inbound/log.ts';
import { mergeParams } from '../../inbound/params.ts';

export const INBOUND_BODY_LIMIT = 64 * 1024;
const WEBHOOK_URL = '/webhooks/:accountId/:key/:auth/:name';
const OTHER_METHODS = ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;

const KeyView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Nullable(Type.String()),
  keyHint: Type.String({ description: "The key's first 4 characters, to tell keys apart" }),
  createdAt: Type.String(),
  lastUsedAt: Nullable(Type.String({ description: 'Last accepted call (to the minute)' })),
  revokedAt: Nullable(Type.String()),
  active: Type.Boolean(),
});

const CreatedKey = Type.Object({
  ...KeyView.properties,
  accountId: Type.Integer(),
  key: Type.String({ description: 'Shown once' }),
  auth: Type.String({ description: 'Shown once' }),
  urlTemplate: Type.String({ description: '{PUBLIC_URL}/webhooks/{accountId}/{key}/{auth}/{name}: replace {name}' }),
});

const LogView = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  keyId: Nullable(Type.String()),
  name: Type.String(),
  status: Type.Integer(),
  result: Type.String({ description: 'created, updated, unchanged, or the error code' }),
  message: Nullable(Type.String()),
  clientIp: Nullable(Type.String()),
  surveyId: Nullable(Type.Integer()),
  respondentId: Nullable(Type.Integer()),
  changedFields: Type.Array(Type.String()),
  requestId: Nullable(Type.String()),
});

const InboundError = Type.Object({ type: Type.Literal('error'), msg: Type.String() }, { description: 'Every inbound error' });
const InboundSuccess = Type.Object({
  type: Type.Literal('success'),
  msg: Type.String(),
  id_respondent: Type.Integer({ description: "The respondent's userId ([ID_RESPONDENT] in URL templates)" }),
  auth_url: Type.Optional(Type.String({ description: 'add-respondent: the respondent’s personal survey link' })),
  created: Type.Optional(Type.Boolean({ description: 'add-respondent: false when on_existing=update found the respondent' })),
});
const inboundErrors = Object.fromEntries([400, 401, 404, 405, 409, 413, 415, 429, 500, 503].map((s) => [s, InboundError]));

const WebhookParams = Type.Object({
  accountId: Type.String({ description: 'id_account' }),
  key: Type.String({ description: 'webhook_key' }),
  auth: Type.String({ description: 'webhook_auth' }),
  name: Type.String({ description: 'update-respondent or add-respondent' }),
});
// Free-form on purpose: the parameters are checked in code so every refusal has the inbound shape.
const FreeForm = Type.Object({}, { additionalProperties: true, description: 'id_survey, id_respondent, username, email, l1…l10, redirect_url, on_existing' });

interface CallState {
  ctx: CallContext;
  /** Set once the key is authenticated. */
  accountId?: number;
}

export function inboundRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    app.post('/api/admin/inbound-keys', {
      schema: {
        tags: ['inbound'],
        summary: 'Create an inbound webhook key: key and auth are shown once',
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
        response: { 201: CreatedKey, ...errors(400, 401, 403) },
      },
      // A bare POST (no body) is fine: it means no name.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      const { name } = request.body as { name?: string };
      const created = await services.inbound.keys.create(p.accountId, p.userId, name ?? null);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(created);
    });

    app.get('/api/admin/inbound-keys', {
      schema: { tags: ['inbound'], summary: "The account's inbound keys (never the secrets)", querystring: ListQuery, response: { 200: ListOf(KeyView), ...errors(400, 401, 403) } },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const q = request.query as { limit?: number; cursor?: string };
      return services.inbound.keys.list(p.accountId, q.limit ?? 50, q.cursor);
    });

    app.delete('/api/admin/inbound-keys/:id', {
      schema: { tags: ['inbound'], summary: 'Revoke an inbound key (at once)', params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    }, async (request, reply) => {
      const p = await requireAdmin(request, 'admin');
      await services.inbound.keys.revoke(p.accountId, (request.params as { id: string }).id);
      return reply.code(204).send();
    });

    app.get('/api/admin/inbound-log', {
      schema: {
        tags: ['inbound'],
        summary: 'Audit log of inbound webhook calls, newest first (accepted and refused; never the secrets)',
        querystring: Type.Object({ ...ListQuery.properties, keyId: Type.Optional(Type.String({ format: 'uuid' })) }),
        response: { 200: ListOf(LogView), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const p = await requireAdmin(request, 'admin');
      const q = request.query as { limit?: number; cursor?: string; keyId?: string };
      return services.inbound.log.list(p.accountId, { limit: q.limit ?? 50, cursor: q.cursor, keyId: q.keyId });
    });

    await app.register(webhookRoutes(services));
  };
}

/** The public URL, in a scope of its own: form bodies, a lenient JSON parser and the inbound error handler stay here. */
function webhookRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    const states = new WeakMap<FastifyRequest, CallState>();
    const stateOf = (request: FastifyRequest): CallState => {
      let st = states.get(request);
      if (!st) {
        const seg = segmentsOf(request.url);
        st = {
          ctx: {
            accountId: seg?.[0] !== undefined ? accountIdOf(seg[0]) : null,
            keyId: null,
            // Only a well-formed URL has a name: in a malformed one the 4th segment may be a secret.
            name: seg?.length === 4 ? seg[3] : '',
            clientIp: request.ip ?? null,
            requestId: request.id,
            surveyId: null,
            respondentId: null,
            changed: [],
          },
        };
        states.set(request, st);
      }
      return st;
    };

    await app.register(formbody);
    // An empty JSON body means "no parameters" (curl -X POST -H 'content-type: application/json'),
    // not an error; the rest is plain JSON.parse (a "__proto__" key is just an unknown parameter).
    // Only the two encodings callers are told about: text/plain (Fastify's default) is a 415 here.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new AppError('INVALID_JSON', 'the body is not valid JSON'), undefined);
      }
    });

    app.setErrorHandler(async (err, request, reply) => {
      const appErr = toAppError(err);
      if (appErr.status >= 500) request.log.error({ err }, 'inbound call failed');
      const { ctx } = stateOf(request);
      try {
        await services.inbound.log.write(services.database.db, ctx, appErr.status, appErr.code, appErr.message);
      } catch (logErr) {
        request.log.warn({ err: logErr }, 'inbound audit log write failed');
      }
      return sendError(request, reply, appErr);
    });

    const authenticate = async (request: FastifyRequest) => {
      const st = stateOf(request);
      const seg = segmentsOf(request.url);
      if (!seg || seg.length !== 4 || seg.includes('')) {
        throw new AppError('NOT_FOUND', 'unknown webhook URL: the form is /webhooks/{accountId}/{key}/{auth}/{name}');
      }
      const k = await services.inbound.keys.authenticate(seg[0], seg[1], seg[2], (keyId) => {
        st.ctx.keyId = keyId;
      });
      services.inbound.rateLimit(k.keyId);
      st.accountId = k.accountId;
    };

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const st = stateOf(request);
      const params = mergeParams(request.query, request.method === 'POST' ? request.body : undefined);
      const result = await services.inbound.call(st.ctx, st.accountId as number, st.ctx.name, params);
      reply.header('cache-control', 'no-store');
      return result;
    };

    const methodNotAllowed = async (request: FastifyRequest) => {
      stateOf(request);
      throw new AppError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here: use GET or POST`, undefined, { allow: 'GET, POST' });
    };

    const schema = (method: 'GET' | 'POST', documented: boolean) => ({
      ...(documented
        ? {
            tags: ['inbound'],
            summary: `Inbound webhook (Webankieta style) by ${method}: update-respondent or add-respondent`,
            description: 'Parameters in the query string, or a form-urlencoded or JSON body; the body wins over the query. See docs/inbound.md.',
            security: [],
            params: WebhookParams,
          }
        : { hide: true }),
      querystring: FreeForm,
      ...(method === 'POST' ? { body: Type.Unknown({ description: 'application/x-www-form-urlencoded or application/json, at most 64 KB' }) } : {}),
      response: { 200: InboundSuccess, ...inboundErrors },
    });
    for (const url of [WEBHOOK_URL, '/webhooks/*']) {
      // The wildcard catches malformed URLs (extra segments, over-long ones) so they get the inbound shape too.
      const documented = url === WEBHOOK_URL;
      for (const method of ['GET', 'POST'] as const) {
        app.route({
          method,
          url,
          exposeHeadRoute: false,
          bodyLimit: INBOUND_BODY_LIMIT,
          config: { errorShape: 'inbound' },
          schema: schema(method, documented),
          onRequest: authenticate,
          handler,
        });
      }
      app.route({
        method: [...OTHER_METHODS],
        url,
        bodyLimit: INBOUND_BODY_LIMIT,
        config: { errorShape: 'inbound' },
        schema: { hide: true, response: inboundErrors },
        onRequest: methodNotAllowed,
        handler: async () => undefined,
      });
    }
  };
}

/** The path segments after /webhooks/ (a trailing slash ignored), percent-decoded; null when one cannot be decoded. */
function segmentsOf(url: string): string[] | null {
  const path = url.split('?')[0].replace(/^\/webhooks\//, '').replace(/\/$/, '');
  try {
    return path.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}
