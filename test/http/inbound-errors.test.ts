import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { setupApp } from '../helpers/app.ts';
import { FORM, auditLog, fingerprint, form, inboundSetup, newRespondent, respondent } from './inboundFixtures.ts';

const CREDENTIALS = { type: 'error', msg: 'unknown or revoked webhook key or auth' };

function expectInboundError(res: LightMyRequestResponse, status: number, msgPart?: string) {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['msg', 'type']);
  expect(body.type).toBe('error');
  if (msgPart) expect(body.msg).toContain(msgPart);
}

describe('inbound webhook errors', () => {
  const ctx = setupApp();

  it('answers 401 the same way for a wrong key, a wrong auth, a revoked key and another account’s key', async () => {
    const s = await inboundSetup(ctx);
    const other = await inboundSetup(ctx);
    const id = await newRespondent(ctx, s, 'r401');
    const q = `update-respondent?id_survey=${s.slug}&id_respondent=${id}&l1=x`;
    const before = await fingerprint(ctx);
    const urls = [
      `/webhooks/${s.admin.accountId}/wrong-key/${s.key.auth}/${q}`,
      `/webhooks/${s.admin.accountId}/${s.key.key}/wrong-auth/${q}`,
      `/webhooks/${s.admin.accountId}/${s.key.key}/${other.key.auth}/${q}`,
      `/webhooks/${s.admin.accountId}/${other.key.key}/${other.key.auth}/${q}`, // another account's key
      `/webhooks/${other.admin.accountId}/${s.key.key}/${s.key.auth}/${q}`, // the key under another account
      `/webhooks/999999999/${s.key.key}/${s.key.auth}/${q}`,
      `/webhooks/not-a-number/${s.key.key}/${s.key.auth}/${q}`,
      `/webhooks/${s.admin.accountId}/${s.key.key}/${s.key.auth.toUpperCase()}/${q}`,
    ];
    for (const url of urls) {
      const res = await ctx.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toEqual(CREDENTIALS);
    }
    const post = await ctx.inject({ method: 'POST', url: `/webhooks/${s.admin.accountId}/${s.key.key}/nope/update-respondent`, headers: FORM, payload: form({ id_survey: s.slug }) });
    expect(post.json()).toEqual(CREDENTIALS);
    expect(await fingerprint(ctx)).toBe(before);
    expect((await respondent(ctx, s, 'r401')).l1).toBeNull();

    // Revocation works at once, and a second key keeps working (rotation).
    const second = (await ctx.inject({ method: 'POST', url: '/api/admin/inbound-keys', headers: s.admin.headers, payload: {} })).json();
    expect((await ctx.inject({ method: 'DELETE', url: `/api/admin/inbound-keys/${s.key.id}`, headers: s.admin.headers })).statusCode).toBe(204);
    const revoked = await ctx.inject({ method: 'GET', url: `${s.base}/${q}` });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json()).toEqual(CREDENTIALS);
    const rotated = await ctx.inject({ method: 'GET', url: `/webhooks/${s.admin.accountId}/${second.key}/${second.auth}/${q}` });
    expect(rotated.statusCode, rotated.body).toBe(200);

    // The log names the key only when it exists in that account, and never the other account's.
    const log = await auditLog(ctx, s.admin, '?limit=100');
    const refused = log.items.filter((i) => i.status === 401);
    expect(refused.length).toBe(7); // the 5 GETs addressed to this account, the POST and the revoked key's call
    expect(refused.every((i) => i.result === 'INVALID_CREDENTIALS')).toBe(true);
    expect(new Set(refused.map((i) => i.keyId))).toEqual(new Set([null, s.key.id]));
    const otherLog = await auditLog(ctx, other.admin, '?limit=100');
    expect(otherLog.items.map((i) => i.keyId)).toEqual([null]); // the key of s under other's account id
  });

  it('answers 404 for an unknown name, survey (also another account’s) or respondent', async () => {
    const s = await inboundSetup(ctx);
    const other = await inboundSetup(ctx);
    const id = await newRespondent(ctx, s, 'r404');
    const otherSurvey = await ctx.newSurvey(s.admin);
    const otherId = await newRespondent(ctx, other, 'theirs');
    const before = await fingerprint(ctx);
    const cases: [string, string][] = [
      [`${s.base}/delete-respondent?id_survey=${s.slug}`, 'unknown webhook'],
      [`${s.base}/update-respondent?id_survey=no-such-survey&id_respondent=${id}`, 'survey'],
      [`${s.base}/update-respondent?id_survey=2147483647&id_respondent=${id}`, 'survey'],
      [`${s.base}/update-respondent?id_survey=${other.slug}&id_respondent=${otherId}`, 'survey'],
      [`${s.base}/update-respondent?id_survey=${other.surveyId}&id_respondent=${otherId}`, 'survey'],
      [`${s.base}/add-respondent?id_survey=${other.slug}&username=x`, 'survey'],
      [`${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=2147483647`, 'respondent'],
      [`${s.base}/update-respondent?id_survey=${otherSurvey}&id_respondent=${id}`, 'respondent'], // not in that survey
      [`${s.base}/update-respondent?id_survey=${s.slug}&username=nobody`, 'respondent'],
      [`${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&username=someone-else`, 'respondent'],
      [`/webhooks/${s.admin.accountId}/${s.key.key}/${s.key.auth}`, 'unknown webhook URL'],
      [`${s.base}/update-respondent/extra`, 'unknown webhook URL'],
      [`${s.base}/update-respondent//`, 'unknown webhook URL'],
      [`/webhooks/${s.admin.accountId}/${'k'.repeat(300)}/${s.key.auth}/update-respondent`, ''],
    ];
    for (const [url, msg] of cases) {
      const res = await ctx.inject({ method: 'GET', url });
      expectInboundError(res, url.includes('k'.repeat(300)) ? 401 : 404, msg);
    }
    expect(await fingerprint(ctx)).toBe(before);
  });

  it('answers 400 naming the missing or invalid parameter, changing nothing', async () => {
    const s = await inboundSetup(ctx, { allowedRedirectOrigins: ['https://ok.example'] });
    const id = await newRespondent(ctx, s, 'r400', { l1: 'orig' });
    const u = `${s.base}/update-respondent`;
    const a = `${s.base}/add-respondent`;
    const base = `id_survey=${s.slug}&id_respondent=${id}`;
    const before = await fingerprint(ctx);
    const gets: [string, string][] = [
      [`${u}?id_respondent=${id}&l1=x`, 'id_survey'],
      [`${u}?id_survey=&id_respondent=${id}`, 'id_survey'],
      [`${u}?id_survey=${s.slug}&l1=x`, 'id_respondent'],
      [`${u}?id_survey=${s.slug}&id_respondent=abc`, 'id_respondent'],
      [`${u}?id_survey=${s.slug}&id_respondent=-3`, 'id_respondent'],
      [`${u}?id_survey=${s.slug}&id_respondent=99999999999`, 'id_respondent'],
      [`${u}?id_survey=a%2Fb&id_respondent=${id}`, 'id_survey'],
      [`${u}?${base}&l11=x`, 'l11'],
      [`${u}?${base}&l0=x`, 'l0'],
      [`${u}?${base}&l1=${'x'.repeat(1001)}`, 'l1'],
      [`${u}?${base}&redirect_url=ftp://x.example/`, 'redirect_url'],
      [`${u}?${base}&redirect_url=not%20a%20url`, 'redirect_url'],
      [`${u}?${base}&redirect_url=https://evil.example/`, 'redirect_url'],
      [`${u}?${base}&l1=a&l1=b`, 'l1'],
      [`${u}?${base}&l2=%00`, 'l2'],
      [`${u}?${base}&email=x@example.test`, 'email'], // not a parameter of update-respondent
      [`${u}?${base}&key=${s.key.key}`, 'key'],
      [`${a}?id_survey=${s.slug}&l1=x`, 'username'],
      [`${a}?id_survey=${s.slug}&email=not-an-email`, 'email'],
      [`${a}?id_survey=${s.slug}&username=x&on_existing=maybe`, 'on_existing'],
      [`${a}?id_survey=${s.slug}&username=${'u'.repeat(257)}`, 'username'],
      [`${a}?id_survey=${s.slug}&username=x&id_respondent=3`, 'id_respondent'],
    ];
    for (const [url, param] of gets) {
      const res = await ctx.inject({ method: 'GET', url });
      expectInboundError(res, 400, param);
      expect(res.json().msg.startsWith(param), `${url}: ${res.body}`).toBe(true);
    }
    const posts: [string, Record<string, string>, string, string][] = [
      [u, { 'content-type': 'application/json' }, JSON.stringify({ id_survey: s.slug, id_respondent: id, l1: { nested: true } }), 'l1'],
      [u, { 'content-type': 'application/json' }, JSON.stringify({ id_survey: s.slug, id_respondent: id, l1: ['a'] }), 'l1'],
      [u, { 'content-type': 'application/json' }, JSON.stringify([1, 2]), 'body'],
      [u, { 'content-type': 'application/json' }, '"just a string"', 'body'],
      [u, { 'content-type': 'application/json' }, '{"id_survey": ', 'JSON'],
      [u, { 'content-type': 'application/json' }, '{"__proto__": {"l1": "x"}, "id_survey": "x"}', '__proto__'],
      [u, FORM, form({ id_survey: s.slug, id_respondent: String(id), l12: 'x' }), 'l12'],
      [u, FORM, `id_survey=${s.slug}&id_respondent=${id}&l3=a&l3=b`, 'l3'],
      [a, FORM, form({ id_survey: s.slug, username: 'new', l1: 'y'.repeat(1001) }), 'l1'],
    ];
    for (const [url, headers, payload, param] of posts) {
      const res = await ctx.inject({ method: 'POST', url, headers, payload });
      expectInboundError(res, 400, param);
    }
    expect(await fingerprint(ctx)).toBe(before);
    expect((await respondent(ctx, s, 'r400')).l1).toBe('orig');
    // Exactly 1000 characters (of emoji, too) is fine.
    const ok = await ctx.inject({ method: 'POST', url: u, payload: { id_survey: s.slug, id_respondent: id, l1: '😀'.repeat(1000) } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(({} as Record<string, unknown>).l1).toBeUndefined();
  });

  it('answers 405 for other methods, 413 over 64 KB, 415 for other content types and 409 for an existing respondent', async () => {
    const s = await inboundSetup(ctx);
    const id = await newRespondent(ctx, s, 'r4xx');
    const before = await fingerprint(ctx);
    for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const res = await ctx.inject({ method, url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l1=x`, payload: { l2: 'y' } });
      expectInboundError(res, 405, 'GET or POST');
      expect(res.headers.allow).toBe('GET, POST');
    }
    const head = await ctx.inject({ method: 'HEAD', url: `${s.base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l1=x` });
    expect(head.statusCode).toBe(405);

    const big = 'x'.repeat(64 * 1024);
    const jsonBig = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, payload: { id_survey: s.slug, id_respondent: id, l1: big } });
    expectInboundError(jsonBig, 413);
    const formBig = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, headers: FORM, payload: form({ id_survey: s.slug, id_respondent: String(id), l1: big }) });
    expectInboundError(formBig, 413);
    // Just under the limit is read (and then refused for the label's length).
    const under = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, headers: FORM, payload: form({ id_survey: s.slug, id_respondent: String(id), l1: 'x'.repeat(60_000) }) });
    expectInboundError(under, 400, 'l1');

    const text = await ctx.inject({ method: 'POST', url: `${s.base}/update-respondent`, headers: { 'content-type': 'text/plain' }, payload: 'l1=x' });
    expectInboundError(text, 415);

    const dup = await ctx.inject({ method: 'POST', url: `${s.base}/add-respondent`, payload: { id_survey: s.slug, username: 'r4xx' } });
    expectInboundError(dup, 409, 'already exists');
    expect(await fingerprint(ctx)).toBe(before);

    const log = await auditLog(ctx, s.admin, '?limit=100');
    expect(log.items.map((i) => i.status)).toEqual([409, 415, 400, 413, 413, 405, 405, 405, 405, 405]);
    expect(log.items.find((i) => i.status === 413)?.keyId).toBe(s.key.id);
  });

  it('never answers 5xx nor writes on refusal, whatever parameters an authenticated caller sends', async () => {
    const s = await inboundSetup(ctx);
    const id = await newRespondent(ctx, s, 'fuzzed');
    const NAMES = ['id_survey', 'id_respondent', 'username', 'email', 'redirect_url', 'on_existing', 'l1', 'l10', 'l11', '__proto__', 'constructor'];
    const VALUES = fc.oneof(
      fc.constantFrom(s.slug, String(s.surveyId), String(id), 'fuzzed', '', '0', '-1', '99999999999999999999', '\u0000', '\ud800', '😀', 'https://x.example/', 'javascript:x', 'a'.repeat(1500), 'update'),
      fc.string({ maxLength: 20 }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const samples = fc.sample(fc.tuple(fc.constantFrom('update-respondent', 'add-respondent'), fc.integer({ min: 0, max: 2 }), fc.dictionary(fc.constantFrom(...NAMES), VALUES, { maxKeys: 6 })), { numRuns: 40, seed: 7 });
    for (const [name, encoding, params] of samples) {
      const before = await fingerprint(ctx);
      const strings = Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''] as [string, string]);
      const enc = (v: string) => { try { return encodeURIComponent(v); } catch { return '%ED%A0%80'; } };
      const query = strings.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
      const res = encoding === 0
        ? await ctx.inject({ method: 'GET', url: `${s.base}/${name}?${query}` })
        : encoding === 1
          ? await ctx.inject({ method: 'POST', url: `${s.base}/${name}`, headers: FORM, payload: query })
          : await ctx.inject({ method: 'POST', url: `${s.base}/${name}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(params) });
      expect(res.statusCode, `${name} ${encoding} ${JSON.stringify(params)}: ${res.body}`).toBeLessThan(500);
      expect(res.json().type).toBe(res.statusCode === 200 ? 'success' : 'error');
      if (res.statusCode >= 400) expect(await fingerprint(ctx)).toBe(before);
    }
  });
});
