/**
 * Builds the HTTP application as a plugin tree, without listening (tests inject into it,
 * the CLI listens). Every route has a schema; every error has one shape.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import { AjvCompiler } from '@fastify/ajv-compiler';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from './services.ts';
import { registerErrorHandling, sendError, toAppError } from './http/plugins/errors.ts';
import { AppError } from './errors.ts';
import { ErrorBody } from './http/schemas.ts';
import { adminAuthenticator } from './http/adminAuth.ts';
import { healthRoutes } from './http/routes/health.ts';
import { authRoutes } from './http/routes/auth.ts';
import { userRoutes } from './http/routes/users.ts';
import { tokenRoutes } from './http/routes/tokens.ts';
import { surveyRoutes } from './http/routes/surveys.ts';
import { redactUrl } from './lib/redact.ts';

/** One pool of Ajv instances, one per option set (see the validator set-up in buildApp). */
const validatorPool = AjvCompiler();
import { registerDomainRoutes } from './http/routes/index.ts';
import { webRoutes } from './http/routes/web.ts';

export const VERSION = '0.1.0';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestTimeout: 30_000,
    bodyLimit: 1024 * 1024,
    trustProxy: process.env.TRUST_PROXY === 'true',
    // Usernames may be 256 characters, percent-encoded up to three bytes each.
    routerOptions: { maxParamLength: 2048 },
    // Errors raised by the router before any handler (bad percent-encoding, over-long params)
    // get the same error shape as everything else.
    frameworkErrors: (err, request, reply) => {
      const appErr = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new AppError('BAD_REQUEST', err.code === 'FST_ERR_BAD_URL' ? 'the URL is not validly percent-encoded' : 'a URL segment is too long')
        : toAppError(err);
      return sendError(request, reply, appErr);
    },
    // Query strings, params and headers are text, so their numbers and booleans are coerced. JSON
    // bodies are validated as sent: coercion there turned `null` into "" in `Nullable(String)`
    // fields (so "null clears" stored an empty string) and "0.50" into 0.5 in number|string unions.
    schemaController: {
      compilersFactory: {
        buildValidator: (externalSchemas, options) => {
          // Fastify's own options (plugins, onCreate) plus ours; its types cover JTD mode too, hence the cast.
          const withCoercion = (coerceTypes: 'array' | false) =>
            ({ ...(options as object), customOptions: { removeAdditional: false, allErrors: true, useDefaults: true, coerceTypes } }) as never;
          const textParts = validatorPool(externalSchemas, withCoercion('array'));
          const body = validatorPool(externalSchemas, withCoercion(false));
          return (route) => (route.httpPart === 'body' ? body : textParts)(route);
        },
      },
    },
    // One line per request is written by our onResponse hook, with secrets out of the URL.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addSchema(ErrorBody);
  registerErrorHandling(app);
  await app.register(cookie);

  // Request id and security headers on every answer; one log line per request with secrets out of the URL.
  app.addHook('onRequest', async (request) => {
    (request as { startedAt?: bigint }).startedAt = process.hrtime.bigint();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
    }
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const started = (request as { startedAt?: bigint }).startedAt;
    const seconds = started ? Number(process.hrtime.bigint() - started) / 1e9 : 0;
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    request.log.info({ method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(seconds * 1000) }, 'request');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Surveybridge API', version: VERSION, description: 'Respondents in, redirects out, webhooks both ways.' },
      servers: [{ url: services.config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token from /api/auth/login or an API token (sbt_…)' },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  const requireAdmin = adminAuthenticator(services);
  await app.register(healthRoutes(services));
  await app.register(authRoutes(services, requireAdmin));
  await app.register(userRoutes(services, requireAdmin));
  await app.register(tokenRoutes(services, requireAdmin));
  await app.register(surveyRoutes(services, requireAdmin));
  await registerDomainRoutes(app, services, requireAdmin);
  await app.register(webRoutes());
  return app;
}
