import { describe, expect, it } from 'vitest';
import { setupApp, unique } from '../helpers/app.ts';

describe('users of an account', () => {
  const ctx = setupApp();

  it('adds, lists, changes and removes users; the new user can sign in', async () => {
    const owner = await ctx.newAdmin('owner');
    const email = `${unique('u')}@example.test`;
    const created = await ctx.inject({ method: 'POST', url: '/api/admin/users', headers: owner.headers, payload: { email, password: 'password-123', role: 'reviewer' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ email, role: 'reviewer' });
    expect(created.body).not.toContain('password-123');
    const id = created.json().id;
    const list = await ctx.inject({ method: 'GET', url: '/api/admin/users?limit=1', headers: owner.headers });
    expect(list.json().items).toHaveLength(1);
    expect(list.json().nextCursor).not.toBeNull();
    const rest = await ctx.inject({ method: 'GET', url: `/api/admin/users?cursor=${list.json().nextCursor}`, headers: owner.headers });
    expect(rest.json().items.map((u: { email: string }) => u.email)).toContain(email);
    const login = await ctx.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '127.0.9.1', payload: { email, password: 'password-123' } });
    expect(login.statusCode).toBe(200);
    const changed = await ctx.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: owner.headers, payload: { role: 'viewer' } });
    expect(changed.json().role).toBe('viewer');
    const removed = await ctx.inject({ method: 'DELETE', url: `/api/admin/users/${id}`, headers: owner.headers });
    expect(removed.statusCode).toBe(204);
    const again = await ctx.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: owner.headers, payload: { role: 'viewer' } });
    expect(again.statusCode).toBe(404);
  });

  it('rejects bad input naming the fields, and a duplicate email in the account', async () => {
    const owner = await ctx.newAdmin('owner');
    const bad = await ctx.inject({ method: 'POST', url: '/api/admin/users', headers: owner.headers, payload: { email: 'not-an-email', password: 'short', role: 'king', extra: 1 } });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/email', '/body/password', '/body/extra']));
    const dup = await ctx.inject({ method: 'POST', url: '/api/admin/users', headers: owner.headers, payload: { email: owner.email, password: 'password-123', role: 'viewer' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('EMAIL_TAKEN');
  });

  it('lets an admin manage users but not grant or touch the owner role', async () => {
    const owner = await ctx.newAdmin('owner');
    const admin = await ctx.newAdmin('admin', owner.accountId);
    const grant = await ctx.inject({ method: 'POST', url: '/api/admin/users', headers: admin.headers, payload: { email: `${unique('o')}@example.test`, password: 'password-123', role: 'owner' } });
    expect(grant.statusCode).toBe(403);
    const demote = await ctx.inject({ method: 'PATCH', url: `/api/admin/users/${owner.userId}`, headers: admin.headers, payload: { role: 'viewer' } });
    expect(demote.statusCode).toBe(403);
    const ok = await ctx.inject({ method: 'POST', url: '/api/admin/users', headers: admin.headers, payload: { email: `${unique('v')}@example.test`, password: 'password-123', role: 'viewer' } });
    expect(ok.statusCode).toBe(201);
  });

  it('never lets the last owner go', async () => {
    const owner = await ctx.newAdmin('owner');
    const res = await ctx.inject({ method: 'PATCH', url: `/api/admin/users/${owner.userId}`, headers: owner.headers, payload: { role: 'admin' } });
    expect(res.statusCode).toBe(409);
    const me = await ctx.inject({ method: 'GET', url: '/api/admin/me', headers: owner.headers });
    expect(me.json().account.role).toBe('owner');
  });

  it('is closed to reviewers and viewers', async () => {
    const owner = await ctx.newAdmin('owner');
    for (const role of ['reviewer', 'viewer'] as const) {
      const user = await ctx.newAdmin(role, owner.accountId);
      expect((await ctx.inject({ method: 'GET', url: '/api/admin/users', headers: user.headers })).statusCode).toBe(403);
      const add = await ctx.inject({ method: 'POST', url: '/api/admin/users', headers: user.headers, payload: { email: `${unique('x')}@example.test`, password: 'password-123', role: 'viewer' } });
      expect(add.statusCode).toBe(403);
      expect(add.json().error.code).toBe('FORBIDDEN');
    }
  });

  it("cannot see or change another account's users", async () => {
    const mine = await ctx.newAdmin('owner');
    const theirs = await ctx.newAdmin('owner');
    const list = await ctx.inject({ method: 'GET', url: '/api/admin/users', headers: mine.headers });
    expect(list.json().items.map((u: { id: number }) => u.id)).not.toContain(theirs.userId);
    const patch = await ctx.inject({ method: 'PATCH', url: `/api/admin/users/${theirs.userId}`, headers: mine.headers, payload: { role: 'viewer' } });
    expect(patch.statusCode).toBe(404);
    const del = await ctx.inject({ method: 'DELETE', url: `/api/admin/users/${theirs.userId}`, headers: mine.headers });
    expect(del.statusCode).toBe(404);
  });
});
