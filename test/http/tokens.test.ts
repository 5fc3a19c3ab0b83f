import { describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';

describe('API tokens', () => {
  const ctx = setupApp();

  it('is shown once, authenticates, lists without the secret, and stops working when revoked', async () => {
    const admin = await ctx.newAdmin('admin');
    const created = await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: admin.headers, payload: { name: 'ci' } });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect(token).toMatch(/^sbt_[A-Za-z0-9_-]{40,}$/);
    const auth = { authorization: `Bearer ${token}` };
    expect((await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: auth })).statusCode).toBe(200);
    const list = await ctx.inject({ method: 'GET', url: '/api/admin/tokens', headers: admin.headers });
    expect(list.json().items).toHaveLength(1);
    expect(list.json().items[0]).toMatchObject({ id, name: 'ci', role: 'admin' });
    expect(list.body).not.toContain(token);
    expect((await ctx.inject({ method: 'DELETE', url: `/api/admin/tokens/${id}`, headers: admin.headers })).statusCode).toBe(204);
    expect((await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: auth })).statusCode).toBe(401);
  });

  it('refuses an expiry in the past and a token that has expired', async () => {
    const admin = await ctx.newAdmin('admin');
    const past = await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: admin.headers, payload: { name: 'old', expiresAt: '2000-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(400);
    const soon = new Date(Date.now() + 1500).toISOString();
    const created = await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: admin.headers, payload: { name: 'soon', expiresAt: soon } });
    expect(created.statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, 1600));
    const res = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { authorization: `Bearer ${created.json().token}` } });
    expect(res.statusCode).toBe(401);
  });

  it("acts only in its own account and cannot revoke another account's token", async () => {
    const a = await ctx.newAdmin('owner');
    const b = await ctx.newAdmin('owner');
    const tokenA = (await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: a.headers, payload: { name: 'a' } })).json();
    const other = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { authorization: `Bearer ${tokenA.token}`, 'x-account': String(b.accountId) } });
    expect(other.statusCode).toBe(404);
    const revoke = await ctx.inject({ method: 'DELETE', url: `/api/admin/tokens/${tokenA.id}`, headers: b.headers });
    expect(revoke.statusCode).toBe(404);
    expect((await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: { authorization: `Bearer ${tokenA.token}` } })).statusCode).toBe(200);
  });

  it('may not be created by a viewer, and a bad id is a 400', async () => {
    const owner = await ctx.newAdmin('owner');
    const viewer = await ctx.newAdmin('viewer', owner.accountId);
    expect((await ctx.inject({ method: 'POST', url: '/api/admin/tokens', headers: viewer.headers, payload: { name: 'v' } })).statusCode).toBe(403);
    expect((await ctx.inject({ method: 'DELETE', url: '/api/admin/tokens/not-a-uuid', headers: owner.headers })).statusCode).toBe(400);
  });
});
