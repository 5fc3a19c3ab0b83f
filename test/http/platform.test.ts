import { describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';

describe('platform', () => {
  const ctx = setupApp();

  it('answers /healthz, and /readyz once the database is migrated', async () => {
    expect((await ctx.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });
    const ready = await ctx.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().ok).toBe(true);
  });

  it('puts a request id on every answer, keeping a sane one the client sent', async () => {
    const res = await ctx.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    const bad = await ctx.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'no spaces allowed\u0001' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await ctx.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(res.statusCode).toBe(404);
    const body = res.json();
    expect(body.error.code).toBe('ROUTE_NOT_FOUND');
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers malformed JSON, wrong content types and huge bodies with 4xx, never 500', async () => {
    const admin = await ctx.newAdmin();
    const malformed = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: { ...admin.headers, 'content-type': 'application/json' }, payload: '{"slug":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('INVALID_JSON');
    const xml = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: { ...admin.headers, 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: { ...admin.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ slug: 'x', name: 'y'.repeat(2 * 1024 * 1024) }) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('serves the OpenAPI document with a schema on every route', async () => {
    const res = await ctx.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.entries(doc.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>);
    expect(ops.length).toBeGreaterThan(5);
    for (const [path, methods] of ops) {
      for (const [method, op] of Object.entries(methods)) {
        expect(Object.keys(op.responses ?? {}), `${method} ${path} has response schemas`).not.toHaveLength(0);
      }
    }
    const ui = await ctx.inject({ method: 'GET', url: '/api/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });

  it('exposes Prometheus metrics with the HTTP latency histogram and outbox depth', async () => {
    await ctx.inject({ method: 'GET', url: '/healthz' });
    const res = await ctx.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('http_request_duration_seconds_bucket');
    expect(res.body).toContain('route="/healthz"');
    expect(res.body).toContain('outbox_depth');
    expect(res.body).toContain('db_pool_connections');
  });

  it('sets security headers on every answer', async () => {
    const res = await ctx.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(String(res.headers['content-security-policy'])).not.toMatch(/script-src[^;]*unsafe-inline/);
  });
});
