/**
 * TrialKit-style sync hooks on respondent saves: attempted inline after the commit, reported
 * in the answer (`hooks`), and retried by the respondent's "Protocol error" retry button.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';
import { activeSurvey, newRespondent } from './runtimeFixtures.ts';

describe('sync hooks of respondent saves', () => {
  const ctx = setupApp();
  let server: Server;
  let url = '';
  const received: unknown[] = [];
  let failNext = true;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.statusCode = failNext ? 500 : 200;
        failNext = false;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports a failed hook and lets the respondent retry it', async () => {
    const admin = await ctx.newAdmin();
    const { slug } = await activeSurvey(ctx, admin);
    const hook = await ctx.inject({
      method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers,
      payload: { url, events: ['record.inserted', 'record.updated'], mode: 'sync', format: 'trialkit', timeoutMs: 5000 },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    const r = await newRespondent(ctx, slug);
    const saved = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'T' } } });
    expect(saved.statusCode, saved.body).toBe(200);
    const [failed] = saved.json().hooks;
    expect(failed).toMatchObject({ endpointId: hook.json().id, ok: false, statusCode: 500 });
    expect(failed.deliveryId).toMatch(/^[0-9a-f-]{36}$/);

    const malformed = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/hooks/not-a-uuid/retry`, headers: r.headers });
    expect(malformed.statusCode).toBe(400);
    const other = await newRespondent(ctx, slug);
    const notYours = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/hooks/${failed.deliveryId}/retry`, headers: other.headers });
    expect(notYours.statusCode).toBe(404);
    const retried = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/hooks/${failed.deliveryId}/retry`, headers: r.headers });
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ ok: true, statusCode: 200 });
    expect(received).toHaveLength(2);
    expect(received[0]).toMatchObject({ OnInsert: true });

    const update = await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: r.headers, payload: { answers: { name: 'U' } } });
    expect(update.json().hooks).toMatchObject([{ ok: true, statusCode: 200 }]);
  });
});
