import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { setupApp, unique } from '../helpers/app.ts';
import { surveys } from '../../src/db/schema/index.ts';

describe('surveys', () => {
  const ctx = setupApp();

  it('creates, reads, updates, lists and deletes a survey', async () => {
    const admin = await ctx.newAdmin();
    const slug = unique('crud').toLowerCase();
    const created = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: admin.headers, payload: { slug, name: 'Diet study', followUpUrl: 'https://panel.example/done' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ slug, name: 'Diet study', state: 'draft', allowUserGeneration: false, jwtSecretSet: false, followUpUrl: 'https://panel.example/done' });
    const patched = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { state: 'active', allowUserGeneration: true, allowedRedirectOrigins: ['https://panel.example'] } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ state: 'active', allowUserGeneration: true, allowedRedirectOrigins: ['https://panel.example'] });
    const read = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
    expect(read.json().state).toBe('active');
    const list = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: admin.headers });
    expect(list.json().items.map((s: { slug: string }) => s.slug)).toContain(slug);
    const cleared = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { followUpUrl: null } });
    expect(cleared.json().followUpUrl).toBeNull();
    expect((await ctx.inject({ method: 'DELETE', url: `/api/admin/surveys/${slug}`, headers: admin.headers })).statusCode).toBe(204);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers })).statusCode).toBe(404);
  });

  it('never returns a secret, stores it sealed, and shows whether it is set', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const jwtSecret = 'jwt-secret-0123456789-abcdef';
    const res = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { jwtSecret, linkSigningSecret: 'link-secret-0123456789' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ jwtSecretSet: true, linkSigningSecretSet: true });
    expect(res.body).not.toContain(jwtSecret);
    expect(res.json().jwtSecret).toBeUndefined();
    const [row] = await ctx.services().database.db.select().from(surveys).where(eq(surveys.slug, slug));
    expect(row.jwtSecretSealed).not.toContain(jwtSecret);
    expect(ctx.services().surveys.jwtSecret(row)).toBe(jwtSecret);
    const cleared = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { jwtSecret: null } });
    expect(cleared.json().jwtSecretSet).toBe(false);
    expect(ctx.logs.text()).not.toContain(jwtSecret);
  });

  it('keeps slugs unique across accounts and rejects bad slugs', async () => {
    const a = await ctx.newAdmin();
    const b = await ctx.newAdmin();
    const slug = await ctx.newSurvey(a);
    const taken = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: b.headers, payload: { slug, name: 'x' } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('SLUG_TAKEN');
    for (const bad of ['Upper', 'with space', '', 'x'.repeat(65), 'ünï']) {
      const res = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: a.headers, payload: { slug: bad, name: 'x' } });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.details.fields[0].path).toBe('/body/slug');
    }
  });

  it('rejects unknown settings and bad values, writing nothing', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const res = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { name: 'New', followUpUrl: 'javascript:alert(1)', colour: 'red' } });
    expect(res.statusCode).toBe(400);
    const paths = res.json().error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/followUpUrl', '/body/colour']));
    const read = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
    expect(read.json().name).not.toBe('New');
  });

  it("answers 404 for another account's survey on every verb, never leaking it", async () => {
    const mine = await ctx.newAdmin();
    const theirs = await ctx.newAdmin();
    const slug = await ctx.newSurvey(theirs);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await ctx.inject({ method, url: `/api/admin/surveys/${slug}`, headers: mine.headers, payload: method === 'PATCH' ? { name: 'mine now' } : undefined });
      expect(res.statusCode, method).toBe(404);
      expect(res.json().error.code).toBe('SURVEY_NOT_FOUND');
    }
    const list = await ctx.inject({ method: 'GET', url: '/api/admin/surveys', headers: mine.headers });
    expect(list.json().items.map((s: { slug: string }) => s.slug)).not.toContain(slug);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: theirs.headers })).json().name).not.toBe('mine now');
  });

  it('lets viewers read but not write', async () => {
    const owner = await ctx.newAdmin('owner');
    const viewer = await ctx.newAdmin('viewer', owner.accountId);
    const slug = await ctx.newSurvey(owner);
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: viewer.headers })).statusCode).toBe(200);
    const patch = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: viewer.headers, payload: { name: 'x' } });
    expect(patch.statusCode).toBe(403);
    const create = await ctx.inject({ method: 'POST', url: '/api/admin/surveys', headers: viewer.headers, payload: { slug: unique('v').toLowerCase(), name: 'x' } });
    expect(create.statusCode).toBe(403);
  });

  it('pages through surveys with a cursor and rejects a forged cursor', async () => {
    const admin = await ctx.newAdmin();
    for (let i = 0; i < 3; i++) await ctx.newSurvey(admin);
    const first = await ctx.inject({ method: 'GET', url: '/api/admin/surveys?limit=2', headers: admin.headers });
    expect(first.json().items).toHaveLength(2);
    const second = await ctx.inject({ method: 'GET', url: `/api/admin/surveys?limit=2&cursor=${first.json().nextCursor}`, headers: admin.headers });
    expect(second.json().items).toHaveLength(1);
    expect(second.json().nextCursor).toBeNull();
    const forged = await ctx.inject({ method: 'GET', url: '/api/admin/surveys?cursor=%%%', headers: admin.headers });
    expect(forged.statusCode).toBe(400);
    const tooMany = await ctx.inject({ method: 'GET', url: '/api/admin/surveys?limit=501', headers: admin.headers });
    expect(tooMany.statusCode).toBe(400);
  });
});
