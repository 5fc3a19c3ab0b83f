/**
 * The integrator SDK (src/sdk) against the real server over HTTP, no mocks: create-user URLs
 * create respondents, signed redirects verify, and real webhook deliveries (jwt and hmac,
 * sent by the delivery worker) verify with verifyNotification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { freePort } from '../helpers/cli.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/webhookReceiver.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { createUserApiUrl, createUserUrl, NotificationError, signLink, verifyLink, verifyNotification, type SurveybridgeEvent } from '../../src/sdk/index.ts';

const port = await freePort();
const publicUrl = `http://127.0.0.1:${port}`;

describe('SDK against the real server', () => {
  const ctx = setupApp({ env: { PORT: String(port), PUBLIC_URL: publicUrl, LOG_LEVEL: 'warn' } });
  let receiver: Receiver;
  let worker: WorkerHandle;

  beforeAll(async () => {
    await ctx.app().listen({ port, host: '127.0.0.1' });
    receiver = await startReceiver();
    worker = await startWorker(ctx.services(), { pollMs: 200 });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  const secret = () => randomBytes(24).toString('hex');
  async function api(admin: TestAdmin, method: string, path: string, body?: unknown) {
    const res = await fetch(`${publicUrl}${path}`, {
      method,
      headers: { ...admin.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  async function survey(admin: TestAdmin, settings: Record<string, unknown>) {
    const slug = await ctx.newSurvey(admin, { state: 'active', allowUserGeneration: true, ...settings });
    const def = await api(admin, 'PUT', `/api/admin/surveys/${slug}/definition`, { questions: [{ id: 'age', type: 'number', label: 'Age', required: true }] });
    expect(def.status).toBe(200);
    return slug;
  }

  it('createUserApiUrl: the server creates the respondent, and finds them again', async () => {
    const admin = await ctx.newAdmin();
    const jwtSecret = secret();
    const slug = await survey(admin, { jwtSecret });
    const opts = { publicUrl, survey: slug, secret: jwtSecret, user: 'ext-1', redirect: 'https://panel.example/back?id=ext-1', customFields: { cohort: '2024' } };
    const first = await fetch(createUserApiUrl(opts));
    expect(first.status).toBe(200);
    const created = (await first.json()) as { userId: number; username: string; redirect: string; authUrl: string };
    expect(created).toMatchObject({ username: 'ext-1', redirect: 'https://panel.example/back?id=ext-1' });
    expect(created.authUrl).toContain(`${publicUrl}/surveys/${slug}?auth=`);
    const again = (await (await fetch(createUserApiUrl({ ...opts, alg: 'HS512' }))).json()) as { userId: number };
    expect(again.userId).toBe(created.userId);
    const stored = await api(admin, 'GET', `/api/admin/surveys/${slug}/respondents/ext-1`);
    expect(stored.json).toMatchObject({ userId: created.userId, createdVia: 'jwt', redirectUrl: 'https://panel.example/back?id=ext-1', customFields: { cohort: '2024' } });
    // A token signed with another secret is refused.
    expect((await fetch(createUserApiUrl({ ...opts, secret: secret() }))).status).toBe(401);
  });

  it('createUserUrl: a plain fetch gets the 302 and the session cookie, which signs the respondent in', async () => {
    const admin = await ctx.newAdmin();
    const jwtSecret = secret();
    const slug = await survey(admin, { jwtSecret });
    const res = await fetch(createUserUrl({ publicUrl, survey: slug, secret: jwtSecret, user: 'browser-1' }), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!, publicUrl).pathname).toBe(`/surveys/${slug}`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sb_r'));
    expect(cookie).toBeDefined();
    const session = await fetch(`${publicUrl}/api/surveys/${slug}/session`, { headers: { cookie: cookie!.split(';')[0] } });
    expect(session.status).toBe(200);
    expect(((await session.json()) as { respondent: { username: string } }).respondent.username).toBe('browser-1');
  });

  it('verifyLink: the signed redirect of a real submit and of /finish verify; a changed one does not', async () => {
    const admin = await ctx.newAdmin();
    const jwtSecret = secret();
    const linkSigningSecret = secret();
    const slug = await survey(admin, {
      jwtSecret, linkSigningSecret, requireSignedEntry: true,
      outcomeUrls: { completed: 'https://panel.example/complete?u={username}' },
      redirectParams: ['surveyId', 'userId', 'reward', 'rewardId'], outcomeRewards: { completed: { reward: 5 } },
    });
    // Signed entry: the SDK's signLink over createUserUrl is accepted, the unsigned link is not.
    const link = createUserUrl({ publicUrl, survey: slug, secret: jwtSecret, user: 'ünï 1' });
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(403);
    expect((await fetch(signLink(link, linkSigningSecret), { redirect: 'manual' })).status).toBe(302);

    const created = (await (await fetch(createUserApiUrl({ publicUrl, survey: slug, secret: jwtSecret, user: 'ünï 1' }))).json()) as { authToken: string };
    const auth = await fetch(`${publicUrl}/api/surveys/${slug}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: created.authToken }) });
    const { accessToken } = (await auth.json()) as { accessToken: string };
    const rt = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    expect((await fetch(`${publicUrl}/api/surveys/${slug}/session/answers`, { method: 'PUT', headers: rt, body: JSON.stringify({ answers: { age: 30 } }) })).status).toBe(200);
    const submit = await fetch(`${publicUrl}/api/surveys/${slug}/session/submit`, { method: 'POST', headers: { authorization: rt.authorization } });
    const { redirectUrl } = (await submit.json()) as { redirectUrl: string };
    expect(redirectUrl).toMatch(/^https:\/\/panel\.example\/complete\?u=%C3%BCn%C3%AF%201&surveyId=/);
    expect(verifyLink(redirectUrl, linkSigningSecret)).toBe(true);
    expect(verifyLink(redirectUrl.replace('reward=5', 'reward=50'), linkSigningSecret)).toBe(false);
    expect(verifyLink(redirectUrl, secret())).toBe(false);

    const finish = await fetch(`${publicUrl}/surveys/${slug}/finish`, { headers: { authorization: rt.authorization }, redirect: 'manual' });
    expect(finish.status).toBe(302);
    expect(verifyLink(finish.headers.get('location')!, linkSigningSecret)).toBe(true);
  });

  it('verifyNotification: real deliveries of a jwt endpoint and an hmac endpoint verify; tampering is caught', async () => {
    const admin = await ctx.newAdmin();
    const jwtSecret = secret();
    const slug = await survey(admin, { jwtSecret });
    const jwtUrl = receiver.url(`/sdk-jwt-${slug}`);
    const hmacUrl = receiver.url(`/sdk-hmac-${slug}`);
    const jwtHook = await api(admin, 'POST', `/api/admin/surveys/${slug}/webhooks`, { url: jwtUrl, events: ['respondent.created'], auth: { type: 'jwt' } });
    const hmacHook = await api(admin, 'POST', `/api/admin/surveys/${slug}/webhooks`, { url: hmacUrl, events: ['respondent.created'], auth: { type: 'hmac' } });
    expect([jwtHook.status, hmacHook.status]).toEqual([201, 201]);
    const whsec = hmacHook.json.secret as string;
    expect(whsec).toMatch(/^whsec_/);

    expect((await fetch(createUserApiUrl({ publicUrl, survey: slug, secret: jwtSecret, user: 'notified-1' }))).status).toBe(200);
    const at = (url: string) => (reqs: ReceivedRequest[]) => reqs.find((r) => receiver.url(r.path) === url);
    await receiver.waitFor((reqs) => Boolean(at(jwtUrl)(reqs) && at(hmacUrl)(reqs)), 30_000);
    const jwtReq = at(jwtUrl)(receiver.requests)!;
    const hmacReq = at(hmacUrl)(receiver.requests)!;
    expect(jwtReq.headers.authorization).toMatch(/^Bearer /);
    expect(hmacReq.headers['webhook-signature']).toMatch(/^v1,/);

    const fromJwt: SurveybridgeEvent = verifyNotification({ headers: jwtReq.headers, body: jwtReq.body, secret: jwtSecret, url: jwtUrl });
    const fromHmac = verifyNotification({ headers: hmacReq.headers, body: Buffer.from(hmacReq.body), secret: whsec });
    for (const event of [fromJwt, fromHmac]) {
      expect(event).toMatchObject({ type: 'respondent.created', survey: { slug }, respondent: { username: 'notified-1' } });
    }
    expect(fromJwt.id).toBe(fromHmac.id); // one event, the same webhook-id at every endpoint

    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof NotificationError ? err.code : String(err);
      }
      return 'accepted';
    };
    const changed = jwtReq.body.replace('notified-1', 'notified-2');
    expect(code(() => verifyNotification({ headers: jwtReq.headers, body: changed, secret: jwtSecret, url: jwtUrl }))).toBe('BODY_MISMATCH');
    expect(code(() => verifyNotification({ headers: jwtReq.headers, body: jwtReq.body, secret: jwtSecret, url: hmacUrl }))).toBe('WRONG_AUDIENCE');
    expect(code(() => verifyNotification({ headers: jwtReq.headers, body: jwtReq.body, secret: secret() }))).toBe('BAD_SIGNATURE');
    expect(code(() => verifyNotification({ headers: hmacReq.headers, body: hmacReq.body.replace('notified-1', 'notified-2'), secret: whsec }))).toBe('BAD_SIGNATURE');
    expect(code(() => verifyNotification({ headers: hmacReq.headers, body: hmacReq.body, secret: whsec, now: new Date(Date.now() + 600_000) }))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(code(() => verifyNotification({ headers: {}, body: hmacReq.body, secret: whsec }))).toBe('MISSING_SIGNATURE');
  });
});
