/**
 * Security checks: security headers on HTML pages, cookie flags, and no secret in any log line
 * or later response. The app runs with PUBLIC_URL on https (as in production behind a load
 * balancer) and LOG_LEVEL=debug (the most verbose logs). Every secret is created through the
 * API, then used the way integrations use it, then looked for in every log line.
 * (`npm audit --omit=dev` is not run here: it needs the registry's audit endpoint.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { setupApp } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { startWorker } from '../../src/worker/index.ts';

const PUBLIC = 'https://surveys.example.test';

function hs256(secret: string, claims: Record<string, unknown>): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

/** Parses one Set-Cookie line into its name and lower-cased attributes. */
function cookieOf(header: string) {
  const [pair, ...attrs] = header.split(';').map((s) => s.trim());
  const name = pair.slice(0, pair.indexOf('='));
  const flags = new Map(attrs.map((a) => { const i = a.indexOf('='); return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)]; }));
  return { name, value: pair.slice(pair.indexOf('=') + 1), flags };
}
const setCookies = (h: string | string[] | number | undefined) => (Array.isArray(h) ? h : h ? [String(h)] : []);

describe('security', () => {
  const ctx = setupApp({ env: { PUBLIC_URL: PUBLIC, LOG_LEVEL: 'debug' } });
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  /** Every secret this file creates; the last test looks for each in the logs. */
  const secrets = new Map<string, string>();
  /** Things that must be in the logs (so the search above is searching the right text). */
  const canaries: string[] = [];

  function expectPageHeaders(res: { headers: Record<string, unknown>; statusCode: number }, what: string) {
    expect(String(res.headers['content-type']), what).toContain('text/html');
    expect(res.headers['x-content-type-options'], what).toBe('nosniff');
    const csp = String(res.headers['content-security-policy'] ?? '');
    const directives = new Map(csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => { const [k, ...v] = d.split(/\s+/); return [k.toLowerCase(), v]; }));
    const scripts = directives.get('script-src') ?? directives.get('default-src');
    expect(scripts, `${what}: script-src`).toBeDefined();
    expect(scripts, what).not.toContain("'unsafe-inline'");
    expect(scripts, what).not.toContain("'unsafe-eval'");
    expect(scripts, what).not.toContain('*');
    expect(directives.get('frame-ancestors'), `${what}: frame-ancestors`).toBeDefined();
    expect(directives.get('frame-ancestors')!.every((v) => v === "'none'" || v === "'self'"), what).toBe(true);
    expect(directives.get('object-src'), what).toEqual(["'none'"]);
  }

  it('HTML pages carry the security headers (CSP without unsafe-inline scripts, nosniff, frame-ancestors)', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { state: 'active' });
    await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'q1', type: 'text', label: 'Q' }] } });
    const created = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'page-user' } });
    const authToken = created.json().authToken as string;
    const pages = [
      { url: '/admin', what: 'admin console' },
      { url: '/admin/surveys', what: 'admin console, client route' },
      { url: `/surveys/${slug}`, what: 'respondent page without a session' },
      { url: `/surveys/${slug}?auth=${authToken}`, what: 'respondent entry with an auth token' },
      { url: '/surveys/no-such-survey', what: 'error page (unknown survey)' },
      { url: `/surveys/${slug}?createUser=not-a-jwt`, what: 'error page (bad create-user token)' },
    ];
    for (const p of pages) {
      let res = await ctx.inject({ method: 'GET', url: p.url });
      // An entry URL signs in and redirects to the page: check both answers.
      if (res.statusCode >= 300 && res.statusCode < 400) {
        expect(res.headers['x-content-type-options'], p.what).toBe('nosniff');
        const location = new URL(String(res.headers.location), PUBLIC);
        const cookie = setCookies(res.headers['set-cookie']).map((c) => c.split(';')[0]).join('; ');
        res = await ctx.inject({ method: 'GET', url: location.pathname + location.search, headers: cookie ? { cookie } : {} });
      }
      expectPageHeaders(res, p.what);
      // No inline script in the page itself (the CSP would block it anyway).
      expect(res.body, p.what).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/i);
      expect(res.body, p.what).not.toMatch(/\son[a-z]+\s*=\s*["']/i);
    }
  });

  it('admin and respondent cookies are HttpOnly, SameSite, Secure (https PUBLIC_URL) and scoped to /', async () => {
    const admin = await ctx.newAdmin();
    secrets.set('admin password', admin.password);
    secrets.set('admin access token', admin.token);
    const login = await ctx.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } });
    expect(login.statusCode).toBe(200);
    secrets.set('admin access token (login)', login.json().accessToken);
    const adminCookies = setCookies(login.headers['set-cookie']).map(cookieOf);
    expect(adminCookies.length).toBeGreaterThan(0);
    for (const c of adminCookies) {
      secrets.set(`admin cookie ${c.name}`, c.value);
      expect(c.flags.has('httponly'), c.name).toBe(true);
      expect(c.flags.has('secure'), c.name).toBe(true);
      expect(['lax', 'strict']).toContain(c.flags.get('samesite')?.toLowerCase());
      expect(c.flags.get('path')).toBe('/');
    }

    const slug = await ctx.newSurvey(admin, { state: 'active' });
    await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'q1', type: 'text', label: 'Q' }] } });
    const created = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'cookie-user' } });
    const authToken = created.json().authToken as string;
    secrets.set('respondent auth token (cookie test)', authToken);
    for (const url of [`/surveys/${slug}?auth=${authToken}`, `/a/${authToken}`]) {
      const entry = await ctx.inject({ method: 'GET', url });
      expect(entry.statusCode, url.replace(authToken, '…')).toBeLessThan(400);
      const cookies = setCookies(entry.headers['set-cookie']).map(cookieOf);
      expect(cookies.length, url.replace(authToken, '…')).toBeGreaterThan(0);
      for (const c of cookies) {
        secrets.set(`respondent cookie ${c.name} via ${url.startsWith('/a/') ? 'short link' : 'auth link'}`, c.value);
        expect(c.flags.has('httponly'), c.name).toBe(true);
        expect(c.flags.has('secure'), c.name).toBe(true);
        expect(['lax', 'strict']).toContain(c.flags.get('samesite')?.toLowerCase());
      }
    }
  });

  it('secrets created through the API and then used never appear in a log line or a later answer', async () => {
    const admin = await ctx.newAdmin();
    const jwtSecret = `jwt-${randomBytes(16).toString('hex')}`;
    const linkSigningSecret = `link-${randomBytes(16).toString('hex')}`;
    secrets.set('survey jwtSecret', jwtSecret);
    secrets.set('survey linkSigningSecret', linkSigningSecret);
    const slug = await ctx.newSurvey(admin, {
      state: 'active', allowUserGeneration: true, jwtSecret, linkSigningSecret,
      outcomeUrls: { completed: 'https://partner.example/done?u={username}' },
    });
    await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: { questions: [{ id: 'q1', type: 'text', label: 'Q' }] } });
    canaries.push(`/api/surveys/${slug}/create-user`, `/api/surveys/${slug}/session/submit`, `/surveys/${slug}/finish`);

    // Webhook endpoints: basic (password), hmac (generated secret), extra header with a credential.
    const basicPassword = `basic-${randomBytes(12).toString('hex')}`;
    secrets.set('webhook basic password', basicPassword);
    const headerSecret = `hdr-${randomBytes(12).toString('hex')}`;
    secrets.set('webhook static header value', headerSecret);
    const basic = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url: receiver.url('/basic'), events: ['*'], auth: { type: 'basic', username: 'sb', password: basicPassword }, headers: { 'x-api-key': headerSecret } } });
    expect(basic.statusCode, basic.body).toBe(201);
    const hmac = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url: receiver.url('/hmac'), events: ['*'], auth: { type: 'hmac' } } });
    expect(hmac.statusCode, hmac.body).toBe(201);
    const whsec = hmac.json().secret as string;
    expect(whsec).toMatch(/^whsec_/);
    secrets.set('webhook hmac secret', whsec);
    secrets.set('webhook hmac secret (key part)', whsec.slice('whsec_'.length));

    // API token, used as a bearer.
    const tok = await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: admin.headers, payload: { name: 'security test' } });
    expect(tok.statusCode).toBe(201);
    const apiToken = tok.json().token as string;
    secrets.set('API token', apiToken);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: { authorization: `Bearer ${apiToken}` } })).statusCode).toBe(200);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: { authorization: `Bearer ${apiToken}x` } })).statusCode).toBe(401);

    // Inbound key: its key and auth travel in the URL path.
    const key = await ctx.inject({ method: 'POST', url: '/api/admin/inbound-keys', headers: admin.headers, payload: { name: 'CRM' } });
    expect(key.statusCode, key.body).toBe(201);
    const inbound = key.json() as { key: string; auth: string; urlTemplate: string };
    secrets.set('inbound key', inbound.key);
    secrets.set('inbound auth', inbound.auth);
    const inboundBase = new URL(inbound.urlTemplate.replace('{name}', ''), PUBLIC).pathname;
    canaries.push(`/webhooks/${admin.accountId}/`);
    const added = await ctx.inject({ method: 'GET', url: `${inboundBase}add-respondent?id_survey=${slug}&username=crm-1&l1=VIP` });
    expect(added.statusCode, added.body).toBe(200);
    const wrong = await ctx.inject({ method: 'GET', url: `${inboundBase.replace(inbound.auth, inbound.auth.slice(0, -2) + 'xx')}update-respondent?id_survey=${slug}&username=crm-1&l2=x` });
    expect(wrong.statusCode).toBeGreaterThanOrEqual(400);
    secrets.set('inbound auth (tampered, still secret-bearing)', inbound.auth.slice(0, -2) + 'xx');

    // Respondents: created by the admin API and by create-user; signed in by token; the session submitted.
    const created = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'secret-user', password: 'respondent-pass-123' } });
    expect(created.statusCode).toBe(201);
    secrets.set('respondent password', 'respondent-pass-123');
    const authToken = created.json().authToken as string;
    secrets.set('respondent auth token', authToken);
    const jwt = hs256(jwtSecret, { user: 'jwt-user', redirect: 'https://panel.example/back' });
    const cu = await ctx.inject({ method: 'GET', url: `/api/surveys/${slug}/create-user?params=${jwt}` });
    expect(cu.statusCode, cu.body).toBe(200);
    secrets.set('create-user respondent auth token', cu.json().authToken);
    secrets.set('create-user JWT signature', jwt.split('.')[2]);
    const signIn = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/auth`, payload: { token: authToken } });
    expect(signIn.statusCode).toBe(200);
    const accessToken = signIn.json().accessToken as string;
    secrets.set('respondent access token', accessToken);
    const bearer = { authorization: `Bearer ${accessToken}` };
    expect((await ctx.inject({ method: 'PUT', url: `/api/surveys/${slug}/session/answers`, headers: bearer, payload: { answers: { q1: 'fine' } } })).statusCode).toBe(200);
    const submitted = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/session/submit`, headers: bearer, payload: {} });
    expect(submitted.statusCode, submitted.body).toBe(200);
    const finish = await ctx.inject({ method: 'GET', url: `/surveys/${slug}/finish`, headers: bearer });
    expect(finish.statusCode).toBe(302);
    expect(String(finish.headers.location)).toContain('hash=');
    // Bad secrets are logged as failures, never echoed.
    expect((await ctx.inject({ method: 'GET', url: `/a/${authToken.slice(0, -3)}zzz` })).statusCode).toBeGreaterThanOrEqual(400);
    expect((await ctx.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: `${admin.password}-wrong` } })).statusCode).toBe(401);
    secrets.set('wrong admin password', `${admin.password}-wrong`);

    // Deliveries with the stored credentials go out (the worker logs in this process too).
    const worker = await startWorker(ctx.services(), { pollMs: 100 });
    try {
      const got = await receiver.waitFor((r) => r.some((x) => x.path === '/basic' && String(x.headers['webhook-id']).length > 0) && r.some((x) => x.path === '/hmac'), 60_000);
      const basicReq = got.find((x) => x.path === '/basic')!;
      expect(basicReq.headers.authorization).toBe(`Basic ${Buffer.from(`sb:${basicPassword}`).toString('base64')}`);
      expect(basicReq.headers['x-api-key']).toBe(headerSecret);
      secrets.set('webhook basic authorization header', String(basicReq.headers.authorization).slice('Basic '.length));
    } finally {
      await worker.stop();
    }

    // Later answers never give a secret back.
    const reads = [
      `/api/admin/surveys/${slug}`,
      `/api/admin/surveys/${slug}/webhooks`,
      `/api/admin/surveys/${slug}/webhooks/${basic.json().id}`,
      `/api/admin/surveys/${slug}/webhooks/${hmac.json().id}`,
      '/api/admin/tokens',
      '/api/admin/inbound-keys',
      '/api/admin/inbound-log?limit=50',
    ];
    const never = [jwtSecret, linkSigningSecret, basicPassword, headerSecret, whsec, apiToken, inbound.key, inbound.auth];
    for (const url of reads) {
      const res = await ctx.inject({ method: 'GET', url, headers: admin.headers });
      expect(res.statusCode, url).toBe(200);
      for (const s of never) expect(res.body.includes(s), `${url} gives back a secret`).toBe(false);
    }
  });

  it('no secret created by this file appears in any log line', () => {
    const text = ctx.logs.text();
    expect(text.length).toBeGreaterThan(1000); // the requests above were logged (debug level)
    expect(secrets.size).toBeGreaterThanOrEqual(20);
    for (const c of canaries) expect(text, `the logs mention ${c}`).toContain(c);
    const leaked = [...secrets].filter(([, value]) => value.length >= 8 && text.includes(value)).map(([name]) => name);
    expect(leaked).toEqual([]);
  });
});
