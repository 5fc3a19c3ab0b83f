/**
 * Renders every error in the one shape of the JSON API (or, for routes that say so, the
 * inbound webhook shape or an HTML page). Nothing a client sends may produce a 500; a 5xx
 * never shows internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, type FieldError } from '../../errors.ts';
import { renderErrorPage } from '../html.ts';

/** Route config key that picks the error shape. */
export type ErrorShape = 'json' | 'inbound' | 'html';
declare module 'fastify' {
  interface FastifyContextConfig {
    errorShape?: ErrorShape;
  }
}

const DB_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (!e) return false;
  if (e.code && DB_DOWN_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|PGlite is closed/i.test(e.message)) return true;
  return e.cause ? isDatabaseDown(e.cause) : false;
}

function isDataException(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: unknown };
  if (!e) return false;
  if (typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code)) return true;
  return e.cause ? isDataException(e.cause) : false;
}

function validationFields(err: FastifyError): FieldError[] {
  const ctx = err.validationContext ?? 'body';
  return (err.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string })?.missingProperty;
    const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
    const base = `/${ctx}${v.instancePath ?? ''}`;
    const path = missing ? `${base}/${missing}` : extra ? `${base}/${extra}` : base;
    const message = extra ? 'is not a known field' : v.message ?? 'is invalid';
    return { path, message };
  });
}

/** Classifies any thrown value into (code, message, details, headers). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (fe?.validation) {
    const fields = validationFields(fe);
    return new AppError('VALIDATION_FAILED', fields.map((f) => `${f.path} ${f.message}`).join('; ') || 'invalid request', { fields });
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'request body is too large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('INVALID_JSON', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new AppError('BAD_REQUEST', 'the request body is malformed');
  }
  if (fe instanceof SyntaxError || fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new AppError('INVALID_JSON', 'the body is not valid JSON');
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const byStatus: Record<number, ErrorCode> = { 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED' };
    return new AppError(byStatus[fe.statusCode] ?? 'BAD_REQUEST', fe.message || 'bad request');
  }
  if (isDatabaseDown(err)) return new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable; try again shortly');
  // A PostgreSQL data exception (class 22: out-of-range number, malformed value) can only come
  // from a value the client sent that validation let through: it is the client's error.
  if (isDataException(err)) return new AppError('BAD_REQUEST', 'a value in the request is out of range or malformed');
  return new AppError('INTERNAL_ERROR', 'an unexpected error occurred');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: AppError) {
  if (err.headers) reply.headers(err.headers);
  const shape = request.routeOptions.config?.errorShape ?? 'json';
  if (shape === 'inbound') return reply.code(err.status).send({ type: 'error', msg: err.message });
  if (shape === 'html') return reply.code(err.status).type('text/html; charset=utf-8').send(renderErrorPage(err.status, err.message));
  const error: Record<string, unknown> = { code: err.code, message: err.message, requestId: request.id };
  if (err.details) error.details = err.details;
  return reply.code(err.status).send({ error });
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) request.log.error({ err }, 'request failed');
    return sendError(request, reply, appErr);
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new AppError('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    return sendError(request, reply, err);
  });
}

