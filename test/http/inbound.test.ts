import { describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';
import { FORM, auditLog, eventsOf, form, inboundSetup, newRespondent, respondent } from './inboundFixtures.ts';

const UPDATED = "Respondent has been updated on the survey's mailing list";

describe('inbound webhooks', () => {
  const ctx = setupApp();

  describe('keys', () => {
    it('creates a key shown once, lists it without secrets, and revokes it', async () => {
      const s = await inboundSetup(ctx);
      expect(s.key).toMatchObject({ accountId: s.admin.accountId, name: 'CRM', active: true, revokedAt: null, lastUsedAt: null });
      expect(s.key.key).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(s.key.auth).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(s.key.key).not.toBe(s.key.auth);

      const bare = await ctx.inject({ method: 'POST', url: '/api/admin/inbound-keys', headers: s.admin.headers });
      expect(bare.statusCode).toBe(201);
      expect(bare.headers['cache-control']).toBe('no-store');
      const list = await ctx.inject({ method: 'GET', url: '/api/admin/inbound-keys', headers: s.admin.headers });
      expect(list.statusCode).toBe(200);
      expect(list.json().items.map((k: { id: string }) => k.id)).toEqual([s.key.id, bare.json().id]);
      expect(list.body).not.toContain(s.key.key);
      expect(list.body).not.toContain(s.key.auth);
      expect(list.json().items[0]).toMatchObject({ keyHint: s.key.key.slice(0, 4), name: 'CRM', active: true });
      const paged = await ctx.inject({ method: 'GET', url: '/api/admin/inbound-keys?limit=1', headers: s.admin.headers });
      const next = await ctx.inject({ method: 'GET', url: `/api/admin/inbound-keys?limit=1&cursor=${paged.json().nextCursor}`, headers: s.admin.headers });
      expect(next.json().items.map((k: { id: string }) => k.id)).toEqual([bare.json().id]);
      expect(next.json().nextCursor).toBeNull();

      // Stored as hashes only.
      const { rows } = (await ctx.services().database.db.execute(`SELECT key_hash, auth_hash FROM inbound_keys WHERE id = '${s.key.id}'`)) as unknown as { rows: { key_hash: string; auth_hash: string }[] };
      expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(rows)).not.toContain(s.key.key);

      const del = await ctx.inject({ method: 'DELETE', url: `/api/admin/inbound-keys/${s.key.id}`, headers: s.admin.headers });
      expect(del.statusCode).toBe(204);
      const after = await ctx.inject({ method: 'GET', url: '/api/admin/inbound-keys', headers: s.admin.headers });
      expect(after.json().items[0]).toMatchObject({ id: s.key.id, active: false });
      expect(after.json().items[0].revokedAt).toEqual(expect.any(String));
      expect((await ctx.inject({ method: 'DELETE', url: `/api/admin/inbound-keys/${s.key.id}`, headers: s.admin.headers })).statusCode).toBe(204);
    });

    it('is for owners and admins only, and another account’s key is not found', async () => {
      const s = await inboundSetup(ctx);
      const reviewer = await ctx.newAdmin('reviewer', s.admin.accountId);
      for (const [method, url] of [['POST', '/api/admin/inbound-keys'], ['GET', '/api/admin/inbound-keys'], ['DELETE', `/api/admin/inbound-keys/${s.key.id}`], ['GET', '/api/admin/inbound-log']] as const) {
        expect((await ctx.inject({ method, url, headers: reviewer.headers, payload: method === 'POST' ? {} : undefined })).statusCode).toBe(403);
        expect((await ctx.inject({ method, url })).statusCode).toBe(401);
      }
      const admin = await ctx.newAdmin('admin', s.admin.accountId);
      expect((await ctx.inject({ method: 'GET', url: '/api/admin/inbound-keys', headers: admin.headers })).statusCode).toBe(200);
      const other = await ctx.newAdmin();
      expect((await ctx.inject({ method: 'DELETE', url: `/api/admin/inbound-keys/${s.key.id}`, headers: other.headers })).statusCode).toBe(404);
      expect((await ctx.inject({ method: 'GET', url: '/api/admin/inbound-keys', headers: other.headers })).json().items).toEqual([]);
      expect((await ctx.inject({ method: 'DELETE', url: '/api/admin/inbound-keys/not-a-uuid', headers: s.admin.headers })).statusCode).toBe(400);
    });

    it('gives a urlTemplate that works once {name} is filled in', async () => {
      const s = await inboundSetup(ctx);
      expect(s.key.urlTemplate).toBe(`${ctx.config().publicUrl}/webhooks/${s.admin.accountId}/${s.key.key}/${s.key.auth}/{name}`);
      const id = await newRespondent(ctx, s, 'tpl');
      const url = s.key.urlTemplate.replace(ctx.config().publicUrl, '').replace('{name}', 'update-respondent');
      const res = await ctx.inject({ method: 'GET', url: `${url}?id_survey=${s.slug}&id_respondent=${id}&l1=x` });
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('update-respondent', () => {
    it('updates labels by GET (Webankieta example), form POST and JSON POST, emitting respondent.updated', async () => {
      const s = await inboundSetup(ctx);
      const id = await newRespondent(ctx, s, 'anna', { l2: 'keep', l3: 'clear me' });

      const get = await ctx.inject({ method: 'GET', url: `${s.base}/update-respondent?id_survey=${s.surveyId}&id_respondent=${id}&l4=SuperVIP&l7=9` });
      expect(get.statusCode, get.body).toBe(200);
      expect(get.json()).toEqual({ type: 'success', msg: UPDATED, id_respondent: id });
      expect(get.headers['content-type']).toContain('application/json');
      const slash = await ctx.inject({ method: 'GET', url: `${s.base}/update-respondent/?id_survey=${s.slug}&id_respondent=${id}&l4=SuperVIP` });
      expect(slash.statusCode, slash.body).toBe(200);

      const post = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, headers: FORM, payload: form({ id_survey: s.slug, id_respondent: String(id), l5: 'ü 😀 & = +', l3: '' }) });
      expect(post.statusCode, post.body).toBe(200);

      const json = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, payload: { id_survey: s.surveyId, username: 'anna', l6: 42, redirect_url: 'https://crm.example/back?u=1' } });
      expect(json.statusCode, json.body).toBe(200);
      expect(json.json().id_respondent).toBe(id);

      const r = await respondent(ctx, s, 'anna');
      expect(r).toMatchObject({ l2: 'keep', l3: null, l4: 'SuperVIP', l5: 'ü 😀 & = +', l6: '42', l7: '9', redirectUrl: 'https://crm.example/back?u=1' });
      const updates = (await eventsOf(ctx, s.surveyId)).filter((e) => e.type === 'respondent.updated');
      expect(updates.map((e) => e.payload.data.changed)).toEqual([['l4', 'l7'], ['l3', 'l5'], ['redirectUrl', 'l6']].map((c) => expect.arrayContaining(c)));
    });

    it('lets the body win over the query string', async () => {
      const s = await inboundSetup(ctx);
      const id = await newRespondent(ctx, s, 'bob');
      const formRes = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent?id_survey=nope&l1=query&l2=query-only&id_respondent=${id}`, headers: FORM, payload: form({ id_survey: s.slug, l1: 'body' }) });
      expect(formRes.statusCode, formRes.body).toBe(200);
      expect(await respondent(ctx, s, 'bob')).toMatchObject({ l1: 'body', l2: 'query-only' });
      const jsonRes = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent?l1=query&id_survey=${s.slug}`, payload: { id_respondent: id, l1: 'json' } });
      expect(jsonRes.statusCode, jsonRes.body).toBe(200);
      expect((await respondent(ctx, s, 'bob')).l1).toBe('json');
      // An empty JSON body is no parameters, not an error.
      const empty = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l9=q`, headers: { 'content-type': 'application/json' }, payload: '' });
      expect(empty.statusCode, empty.body).toBe(200);
    });

    it('answers success without an event when nothing changes', async () => {
      const s = await inboundSetup(ctx);
      const id = await newRespondent(ctx, s, 'same', { l1: 'x' });
      const before = (await eventsOf(ctx, s.surveyId)).length;
      const res = await ctx.inject({ method: 'GET', url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l1=x` });
      expect(res.statusCode).toBe(200);
      expect((await eventsOf(ctx, s.surveyId)).length).toBe(before);
      expect((await auditLog(ctx, s.admin)).items[0]).toMatchObject({ result: 'unchanged', changedFields: [] });
    });

    it('lands 100 parallel updates of different labels of one respondent', async () => {
      const s = await inboundSetup(ctx);
      const id = await newRespondent(ctx, s, 'busy');
      const calls = Array.from({ length: 100 }, (_, i) => {
        const label = `l${(i % 10) + 1}`;
        const value = `v${i}`;
        return i % 3 === 0
          ? ctx.inject({ method: 'GET', url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&${label}=${value}` })
          : i % 3 === 1
            ? ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, headers: FORM, payload: form({ id_survey: s.slug, id_respondent: String(id), [label]: value }) })
            : ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, payload: { id_survey: s.slug, id_respondent: id, [label]: value } });
      });
      const results = await Promise.all(calls);
      expect(results.map((r) => r.statusCode)).toEqual(Array(100).fill(200));
      const r = await respondent(ctx, s, 'busy');
      // Every label holds one of the values written to it (the last to commit wins).
      for (let l = 1; l <= 10; l++) {
        const written = Array.from({ length: 10 }, (_, k) => `v${k * 10 + l - 1}`);
        expect(written).toContain(r[`l${l}`]);
      }
      const updates = (await eventsOf(ctx, s.surveyId)).filter((e) => e.type === 'respondent.updated');
      expect(updates.length).toBe(100);
      const log = await auditLog(ctx, s.admin, '?limit=500');
      expect(log.items.filter((i) => i.status === 200).length).toBe(100);
    });
  });

  describe('add-respondent', () => {
    it('adds by GET, form POST and JSON POST, with an auth_url and createdVia inbound, sending nothing', async () => {
      const s = await inboundSetup(ctx);
      const get = await ctx.inject({ method: 'GET', url: `${s.base}/add-respondent?id_survey=${s.slug}&email=${encodeURIComponent('a@example.test')}&l1=VIP` });
      expect(get.statusCode, get.body).toBe(200);
      expect(get.json()).toMatchObject({ type: 'success', msg: 'Respondent has been added', created: true, id_respondent: expect.any(Number) });
      const authUrl: string = get.json().auth_url;
      expect(authUrl.startsWith(`${ctx.config().publicUrl}/surveys/${s.slug}?auth=`)).toBe(true);
      const a = await respondent(ctx, s, 'a@example.test');
      expect(a).toMatchObject({ userId: get.json().id_respondent, email: 'a@example.test', l1: 'VIP', createdVia: 'inbound' });
      expect(authUrl).toBe(a.authUrl);

      const post = await ctx.inject({ method: 'POST', url: `${s.base}/add-respondent`, headers: FORM, payload: form({ id_survey: String(s.surveyId), username: 'form-user', email: 'f@example.test', l2: 'x' }) });
      expect(post.statusCode, post.body).toBe(200);
      expect(await respondent(ctx, s, 'form-user')).toMatchObject({ email: 'f@example.test', l2: 'x', createdVia: 'inbound' });

      const json = await ctx.inject({ method: 'POST', url: `${s.base}/add-respondent`, payload: { id_survey: s.slug, username: 'json-user', redirect_url: 'https://x.example/done' } });
      expect(json.statusCode, json.body).toBe(200);
      expect(await respondent(ctx, s, 'json-user')).toMatchObject({ redirectUrl: 'https://x.example/done', createdVia: 'inbound' });

      const created = (await eventsOf(ctx, s.surveyId)).filter((e) => e.type === 'respondent.created');
      expect(created.map((e) => e.payload.data.username)).toEqual(['a@example.test', 'form-user', 'json-user']);
    });

    it('answers 409 for an existing respondent, or updates it with on_existing=update', async () => {
      const s = await inboundSetup(ctx);
      const id = await newRespondent(ctx, s, 'dup', { l1: 'old' });
      const again = await ctx.inject({ method: 'GET', url: `${s.base}/add-respondent?id_survey=${s.slug}&username=dup&l1=new` });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toEqual({ type: 'error', msg: expect.stringContaining('already exists') });
      expect((await respondent(ctx, s, 'dup')).l1).toBe('old');
      const upd = await ctx.inject({ method: 'POST', url: `${s.base}/add-respondent`, payload: { id_survey: s.slug, username: 'dup', l1: 'new', on_existing: 'update' } });
      expect(upd.statusCode, upd.body).toBe(200);
      expect(upd.json()).toMatchObject({ type: 'success', msg: UPDATED, id_respondent: id, created: false, auth_url: expect.any(String) });
      expect((await respondent(ctx, s, 'dup')).l1).toBe('new');
      const fresh = await ctx.inject({ method: 'POST', url: `${s.base}/add-respondent`, payload: { id_survey: s.slug, username: 'fresh', on_existing: 'update' } });
      expect(fresh.json()).toMatchObject({ created: true, msg: 'Respondent has been added' });
    });
  });

  it('writes every call to the audit log, without secrets, and keeps secrets out of the logs', async () => {
    const s = await inboundSetup(ctx);
    const id = await newRespondent(ctx, s, 'audited');
    await ctx.inject({ method: 'GET', url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l1=a&l2=b`, headers: { 'x-request-id': 'req-audit-1' } });
    await ctx.inject({ method: 'GET', url: `/webhooks/${s.admin.accountId}/${s.key.key}/wrong-auth/update-respondent?id_survey=${s.slug}` });
    await ctx.inject({ method: 'GET', url: `/webhooks/${s.admin.accountId}/unknown-key/${s.key.auth}/update-respondent` });
    await ctx.inject({ method: 'GET', url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l11=x` });
    await ctx.inject({ method: 'POST', url: `${s.base}/add-respondent?key=${s.key.key}&auth=${s.key.auth}`, payload: { id_survey: s.slug, username: 'audited-new' } });

    const log = await auditLog(ctx, s.admin);
    expect(log.items.map((i) => [i.name, i.status, i.result, i.keyId])).toEqual([
      ['add-respondent', 400, 'VALIDATION_FAILED', s.key.id], // key/auth are not parameters
      ['update-respondent', 400, 'VALIDATION_FAILED', s.key.id],
      ['update-respondent', 401, 'INVALID_CREDENTIALS', null],
      ['update-respondent', 401, 'INVALID_CREDENTIALS', s.key.id],
      ['update-respondent', 200, 'updated', s.key.id],
    ]);
    expect(log.items[4]).toMatchObject({ changedFields: ['l1', 'l2'], respondentId: id, surveyId: s.surveyId, requestId: 'req-audit-1', clientIp: expect.any(String), message: null });
    expect(log.items[1].message).toContain('l11');
    const page1 = await auditLog(ctx, s.admin, '?limit=2');
    const page2 = await auditLog(ctx, s.admin, `?limit=2&cursor=${page1.nextCursor}`);
    expect(page2.items.map((i) => i.id)).toEqual(log.items.slice(2, 4).map((i) => i.id));
    expect((await auditLog(ctx, s.admin, `?keyId=${s.key.id}`)).items.length).toBe(4);

    const keys = await ctx.inject({ method: 'GET', url: '/api/admin/inbound-keys', headers: s.admin.headers });
    expect(keys.json().items[0].lastUsedAt).toEqual(expect.any(String));
    for (const text of [JSON.stringify(log), ctx.logs.text()]) {
      expect(text).not.toContain(s.key.key);
      expect(text).not.toContain(s.key.auth);
    }
    expect(ctx.logs.text()).toContain(`/webhooks/${s.admin.accountId}/[redacted]/[redacted]/update-respondent`);
  });
});
