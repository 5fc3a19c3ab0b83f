import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';
import { Webhook } from 'standardwebhooks';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhookReceiver.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { emitEvent, type EventType } from '../../src/events/outbox.ts';
import { surveyRef } from '../../src/surveys/service.ts';

const JWT_SECRET = 'survey-jwt-secret-0123456789';

describe('webhook endpoints and signed deliveries', () => {
  const ctx = setupApp();
  let receiver: Receiver;
  let worker: WorkerHandle;

  beforeAll(async () => {
    receiver = await startReceiver();
    worker = await startWorker(ctx.services(), { pollMs: 200 });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  const base = (slug: string) => `/api/admin/surveys/${slug}/webhooks`;
  async function create(admin: TestAdmin, slug: string, body: Record<string, unknown>) {
    return ctx.inject({ method: 'POST', url: base(slug), headers: admin.headers, payload: body });
  }
  async function emit(slug: string, accountId: number, type: EventType, data: Record<string, unknown>, respondent = { userId: 7, username: 'alice' }) {
    const s = ctx.services();
    const row = await s.surveys.get(accountId, slug);
    return s.database.db.transaction((tx) => emitEvent(tx, s.database.schemaName, { type, survey: surveyRef(row), respondent, data }));
  }
  const forPath = (path: string) => (reqs: ReceivedRequest[]) => reqs.filter((r) => r.path === path);

  it('creates, reads, changes and deletes endpoints; an hmac secret is shown once', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const res = await create(admin, slug, { url: receiver.url('/crud'), events: ['submission.completed'], auth: { type: 'hmac' }, headers: { 'X-Api-Key': 'static-secret-value' } });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created.secret).toMatch(/^whsec_/);
    expect(created).toMatchObject({ format: 'standard', mode: 'async', timeoutMs: 10000, enabled: true, auth: { type: 'hmac' }, headerNames: ['X-Api-Key'] });

    const got = await ctx.inject({ method: 'GET', url: `${base(slug)}/${created.id}`, headers: admin.headers });
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toContain(created.secret);
    expect(got.body).not.toContain('static-secret-value');
    const list = await ctx.inject({ method: 'GET', url: base(slug), headers: admin.headers });
    expect(list.json().items.map((e: { id: string }) => e.id)).toEqual([created.id]);

    const patched = await ctx.inject({ method: 'PATCH', url: `${base(slug)}/${created.id}`, headers: admin.headers, payload: { timeoutMs: 2000, events: ['*'], auth: { type: 'basic', username: 'u@example.test', password: 'pw-basic-secret' } } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ timeoutMs: 2000, events: ['*'], auth: { type: 'basic', username: 'u@example.test' } });
    expect(patched.body).not.toContain('pw-basic-secret');
    expect(patched.json().secret).toBeUndefined();

    const del = await ctx.inject({ method: 'DELETE', url: `${base(slug)}/${created.id}`, headers: admin.headers });
    expect(del.statusCode).toBe(204);
    expect((await ctx.inject({ method: 'GET', url: `${base(slug)}/${created.id}`, headers: admin.headers })).json().error.code).toBe('WEBHOOK_NOT_FOUND');
    expect(ctx.logs.text()).not.toContain(created.secret);
    expect(ctx.logs.text()).not.toContain('pw-basic-secret');
  });

  it('rejects bad endpoints with 4xx, never 500', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const bad = async (body: Record<string, unknown>, code: string) => {
      const res = await create(admin, slug, body);
      expect(res.statusCode, JSON.stringify(body)).toBeLessThan(500);
      expect(res.json().error.code, JSON.stringify(body)).toBe(code);
    };
    await bad({ url: 'ftp://x.test/', events: ['*'] }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['nope'] }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: [] }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], timeoutMs: 30001 }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['submission.completed'], format: 'trialkit' }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], format: 'trialkit' }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], headers: { Authorization: 'x' } }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], headers: { 'bad name': 'x' } }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], headers: { 'X-Ok': 'line\r\nbreak' } }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], headers: { 'X-Ok': 'caf\u00e9' } }, 'VALIDATION_FAILED');
    await bad({ url: receiver.url(), events: ['*'], auth: { type: 'jwt' } }, 'JWT_SECRET_REQUIRED');
    await bad({ url: receiver.url(), events: ['*'], auth: { type: 'basic', username: 'u' } }, 'VALIDATION_FAILED');
    await bad({ url: 'http://user:pw@127.0.0.1/', events: ['*'] }, 'VALIDATION_FAILED');
    const notUuid = await ctx.inject({ method: 'GET', url: `${base(slug)}/not-a-uuid`, headers: admin.headers });
    expect(notUuid.statusCode).toBe(400);
    const other = await ctx.newAdmin();
    const res = await ctx.inject({ method: 'GET', url: base(slug), headers: other.headers });
    expect(res.json().error.code).toBe('SURVEY_NOT_FOUND');
  });

  it('signs hmac deliveries per Standard Webhooks, with webhook-id = the event id', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = (await create(admin, slug, { url: receiver.url('/hmac'), events: ['respondent.created'], auth: { type: 'hmac' }, headers: { 'X-Api-Key': 'static-key-1' } })).json();
    const emitted = await emit(slug, admin.accountId, 'respondent.created', { hello: 'world' });
    const [req] = forPath('/hmac')(await receiver.waitFor((r) => forPath('/hmac')(r).length >= 1));
    const payload = new Webhook(ep.secret).verify(req.body, req.headers as Record<string, string>) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: emitted.event.id, type: 'respondent.created', survey: { slug }, respondent: { userId: 7, username: 'alice' }, data: { hello: 'world' } });
    expect(req.headers['webhook-id']).toBe(emitted.event.id);
    expect(req.headers['user-agent']).toMatch(/^surveybridge\/\d/);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-api-key']).toBe('static-key-1');
  });

  it('keeps signing with the old hmac secret for a while after rotation', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const ep = (await create(admin, slug, { url: receiver.url('/rotate'), events: ['respondent.updated'] })).json();
    expect(ep.auth.type).toBe('hmac'); // signed by default
    const rotated = await ctx.inject({ method: 'POST', url: `${base(slug)}/${ep.id}/rotate-secret`, headers: admin.headers });
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json().secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(ep.secret);
    expect(rotated.json().auth.previousSecretExpiresAt).toBeTruthy();
    await emit(slug, admin.accountId, 'respondent.updated', {});
    const [req] = forPath('/rotate')(await receiver.waitFor((r) => forPath('/rotate')(r).length >= 1));
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(fresh).verify(req.body, req.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(ep.secret).verify(req.body, req.headers as Record<string, string>)).not.toThrow();
    const none = await create(admin, slug, { url: receiver.url('/x'), events: ['*'], auth: { type: 'none' } });
    const bad = await ctx.inject({ method: 'POST', url: `${base(slug)}/${none.json().id}/rotate-secret`, headers: admin.headers });
    expect(bad.statusCode).toBe(400);
  });

  it('sends a Bearer JWT over the exact body (jwt) and Basic credentials (basic)', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { jwtSecret: JWT_SECRET, notificationIssuer: 'my-issuer' });
    await create(admin, slug, { url: receiver.url('/jwt'), events: ['session.started'], auth: { type: 'jwt' } });
    await create(admin, slug, { url: receiver.url('/jwt-own'), events: ['session.started'], auth: { type: 'jwt', secret: 'endpoint-own-secret-123456', issuer: 'own-iss' } });
    await create(admin, slug, { url: receiver.url('/basic'), events: ['session.started'], auth: { type: 'basic', username: 'tk@example.test', password: 'tk-password' } });
    const emitted = await emit(slug, admin.accountId, 'session.started', { n: 1 });
    const reqs = await receiver.waitFor((r) => ['/jwt', '/jwt-own', '/basic'].every((p) => forPath(p)(r).length >= 1));

    const jwtReq = forPath('/jwt')(reqs)[0];
    const token = String(jwtReq.headers.authorization).replace(/^Bearer /, '');
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(JWT_SECRET), { issuer: 'my-issuer', audience: receiver.url('/jwt'), subject: 'alice' });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.jti).toBe(emitted.event.id);
    expect(payload.body_sha256).toBe(createHash('sha256').update(jwtReq.body).digest('hex'));

    const own = forPath('/jwt-own')(reqs)[0];
    await jwtVerify(String(own.headers.authorization).slice(7), new TextEncoder().encode('endpoint-own-secret-123456'), { issuer: 'own-iss', audience: receiver.url('/jwt-own') });

    const basic = forPath('/basic')(reqs)[0];
    expect(basic.headers.authorization).toBe(`Basic ${Buffer.from('tk@example.test:tk-password').toString('base64')}`);
    expect(basic.headers['webhook-id']).toBe(emitted.event.id);
  });

  it('puts the survey slug in sub for events without a respondent (test button)', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { jwtSecret: JWT_SECRET });
    const ep = (await create(admin, slug, { url: receiver.url('/ping'), events: ['submission.completed'], auth: { type: 'jwt' } })).json();
    const res = await ctx.inject({ method: 'POST', url: `${base(slug)}/${ep.id}/test`, headers: admin.headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ ok: true, attempt: { statusCode: 200 }, delivery: { state: 'succeeded', eventType: 'ping' } });
    expect(body.attempt.requestHeaders.authorization).toBe('Bearer [redacted]');
    const req = forPath('/ping')(receiver.requests).at(-1)!;
    const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), new TextEncoder().encode(JWT_SECRET), { issuer: 'surveybridge' });
    expect(payload.sub).toBe(slug);
    expect(JSON.parse(req.body).type).toBe('ping');
  });

  it('sends TrialKit bodies exactly for record events', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    await create(admin, slug, { url: receiver.url('/tk'), events: ['record.inserted', 'record.updated', 'record.review_changed'], format: 'trialkit', auth: { type: 'basic', username: 'a', password: 'b' } });
    const survey = await ctx.services().surveys.get(admin.accountId, slug);
    await emit(slug, admin.accountId, 'record.inserted', { recordId: 436 });
    await emit(slug, admin.accountId, 'record.updated', { recordId: 436 });
    await emit(slug, admin.accountId, 'record.review_changed', {
      recordId: 436, from: null, to: { id: 'monitor', seq: 1, name: 'Monitor Review', lock: true }, lockBroken: false,
    });
    const reqs = forPath('/tk')(await receiver.waitFor((r) => forPath('/tk')(r).length >= 3));
    const bodies = reqs.map((r) => r.body);
    const head = `{"trans_id":"436","form_id":"${survey.id}","form_name":${JSON.stringify(survey.name)}`;
    expect(bodies).toContain(`${head},"OnInsert":true}`);
    expect(bodies).toContain(`${head},"OnUpdate":true}`);
    const review = JSON.parse(bodies.find((b) => b.includes('OnReview'))!);
    expect(review).toEqual({
      trans_id: '436', form_id: String(survey.id), form_name: survey.name, OnReview: true, wf_id: 1,
      wf_object: { wf_id: 1, wf_seq: 1, wf_name: 'Monitor Review', wf_role1: -1, wf_role2: -1, wf_role3: -1, wf_fl: true, wf_lock: true, wf_sign: false, wf_soft: false, wf_status: 1, wf_desc: 'Monitor Review' },
      wf_status: 1, LockBroken: false,
    });
  });

  it('keeps an endpoint in step with submissionNotificationUrl', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const noSecret = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { submissionNotificationUrl: receiver.url('/notify') } });
    expect(noSecret.json().error.code).toBe('JWT_SECRET_REQUIRED');
    const ok = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { jwtSecret: JWT_SECRET, submissionNotificationUrl: receiver.url('/notify'), notificationIssuer: 'intake24' } });
    expect(ok.statusCode).toBe(200);
    const [managed] = (await ctx.inject({ method: 'GET', url: base(slug), headers: admin.headers })).json().items;
    expect(managed).toMatchObject({ url: receiver.url('/notify'), events: ['submission.completed'], mode: 'async', managedBy: 'submissionNotificationUrl', auth: { type: 'jwt', ownSecret: false } });
    const patch = await ctx.inject({ method: 'PATCH', url: `${base(slug)}/${managed.id}`, headers: admin.headers, payload: { enabled: false } });
    expect(patch.json().error.code).toBe('CONFLICT');

    await emit(slug, admin.accountId, 'submission.completed', { answers: [] });
    const [req] = forPath('/notify')(await receiver.waitFor((r) => forPath('/notify')(r).length >= 1));
    await jwtVerify(String(req.headers.authorization).slice(7), new TextEncoder().encode(JWT_SECRET), { issuer: 'intake24', audience: receiver.url('/notify'), subject: 'alice' });

    await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { submissionNotificationUrl: null } });
    const after = (await ctx.inject({ method: 'GET', url: `${base(slug)}/${managed.id}`, headers: admin.headers })).json();
    expect(after.enabled).toBe(false);
    expect(after.disabledReason).toMatch(/cleared/);
  });
});
