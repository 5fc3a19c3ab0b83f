import { describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';

function cookieOf(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  return list.find((c: string) => c.startsWith(`${name}=`));
}

describe('admin authentication', () => {
  const ctx = setupApp();

  it('answers an access token and sets an httpOnly SameSite=Lax session cookie', async () => {
    const admin = await ctx.newAdmin();
    const res = await ctx.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.expiresIn).toBe(900);
    expect(typeof body.accessToken).toBe('string');
    const cookie = cookieOf(res, 'sb_session')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${body.accessToken}` } });
    expect(me.statusCode).toBe(200);
    expect(me.json().email).toBe(admin.email);
    expect(res.body).not.toContain(admin.password);
  });

  it('answers 401 INVALID_CREDENTIALS for a wrong password and for an unknown email alike', async () => {
    const admin = await ctx.newAdmin();
    const wrong = await ctx.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: 'not-the-password' } });
    const unknown = await ctx.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'nobody@example.test', password: 'whatever-it-is' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
    expect(unknown.json().error.message).toBe(wrong.json().error.message);
  });

  it('is rate-limited per email, with Retry-After', async () => {
    const admin = await ctx.newAdmin();
    let last;
    for (let i = 0; i < 11; i++) {
      last = await ctx.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: `127.0.1.${i}`, payload: { email: admin.email, password: 'wrong-password' } });
    }
    expect(last!.statusCode).toBe(429);
    expect(last!.json().error.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password is refused while the window lasts.
    const right = await ctx.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '127.0.2.1', payload: { email: admin.email, password: admin.password } });
    expect(right.statusCode).toBe(429);
  });

  it('is rate-limited per IP across emails', async () => {
    let last;
    for (let i = 0; i < 31; i++) {
      last = await ctx.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '127.0.3.3', payload: { email: `u${i}@example.test`, password: 'wrong-password' } });
    }
    expect(last!.statusCode).toBe(429);
    expect(last!.headers['retry-after']).toBeDefined();
  });

  it('authenticates reads by cookie, requires the CSRF token for writes, and ends at logout', async () => {
    const admin = await ctx.newAdmin();
    const login = await ctx.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '127.0.4.4', payload: { email: admin.email, password: admin.password } });
    const session = cookieOf(login, 'sb_session')!.split(';')[0];
    const csrf = login.json().csrfToken;
    const read = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { cookie: session } });
    expect(read.statusCode).toBe(200);
    const noCsrf = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: { cookie: session }, payload: { slug: `csrf-${Date.now()}`, name: 'x' } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('CSRF_FAILED');
    const withCsrf = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: { cookie: session, 'x-csrf-token': csrf }, payload: { slug: `csrf-${Date.now()}`, name: 'x' } });
    expect(withCsrf.statusCode).toBe(201);
    const logout = await ctx.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: session } });
    expect(logout.statusCode).toBe(200);
    const after = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { cookie: session } });
    expect(after.statusCode).toBe(401);
  });

  it('answers 401 without credentials and for a forged or malformed token', async () => {
    expect((await ctx.inject({ method: 'GET', url: '/api/admin/surveys' })).statusCode).toBe(401);
    const forged = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('UNAUTHENTICATED');
    const malformed = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { authorization: 'Basic abc' } });
    expect(malformed.statusCode).toBe(401);
  });

  it('shows the current account and role, and switches account with X-Account', async () => {
    const admin = await ctx.newAdmin('owner');
    const other = await ctx.newAdmin('owner');
    // Put the first admin into the second account as a viewer.
    await ctx.services().accounts.createUser({ email: admin.email, password: admin.password, role: 'viewer', accountId: other.accountId });
    const me = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: admin.headers });
    expect(me.json().account.id).toBe(admin.accountId);
    expect(me.json().accounts.map((a: { id: number }) => a.id).sort()).toEqual([admin.accountId, other.accountId].sort());
    const switched = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: { ...admin.headers, 'x-account': String(other.accountId) } });
    expect(switched.json().account).toMatchObject({ id: other.accountId, role: 'viewer' });
    const write = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: { ...admin.headers, 'x-account': String(other.accountId) }, payload: { slug: `v-${Date.now()}`, name: 'x' } });
    expect(write.statusCode).toBe(403);
  });

  it('answers 404 ACCOUNT_NOT_FOUND for an account the user is not in', async () => {
    const admin = await ctx.newAdmin();
    const stranger = await ctx.newAdmin();
    const res = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: { ...admin.headers, 'x-account': String(stranger.accountId) } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ACCOUNT_NOT_FOUND');
    const junk = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: { ...admin.headers, 'x-account': 'not-a-number' } });
    expect(junk.statusCode).toBe(404);
  });
});
