import { describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';
import { auditLog, inboundSetup, newRespondent } from './inboundFixtures.ts';

describe('inbound webhook rate limit', () => {
  // A low limit for this file only; the window is a minute, far longer than the test.
  const ctx = setupApp({ env: { INBOUND_RATE_LIMIT: '3' } });

  it('answers 429 with Retry-After past the limit of one key, leaving other keys and wrong credentials alone', async () => {
    const s = await inboundSetup(ctx);
    const id = await newRespondent(ctx, s, 'limited');
    const url = (base: string, i: number) => `${base}/update-respondent?id_survey=${s.slug}&id_respondent=${id}&l1=v${i}`;
    // Wrong credentials do not spend the key's budget (nobody can exhaust a key they do not hold).
    for (let i = 0; i < 5; i++) {
      expect((await ctx.inject({ method: 'GET', url: `/webhooks/${s.admin.accountId}/${s.key.key}/wrong/update-respondent` })).statusCode).toBe(401);
    }
    for (let i = 0; i < 3; i++) expect((await ctx.inject({ method: 'GET', url: url(s.base, i) })).statusCode).toBe(200);
    const limited = await ctx.inject({ method: 'GET', url: url(s.base, 3) });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ type: 'error', msg: expect.stringContaining('retry in') });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    const check = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${s.slug}/respondents/limited`, headers: s.admin.headers });
    expect(check.json().l1).toBe('v2');

    // Another key of the same account has its own budget.
    const second = (await ctx.inject({ method: 'POST', url: '/api/admin/inbound-keys', headers: s.admin.headers, payload: {} })).json();
    const res = await ctx.inject({ method: 'GET', url: url(`/webhooks/${s.admin.accountId}/${second.key}/${second.auth}`, 9) });
    expect(res.statusCode).toBe(200);

    const log = await auditLog(ctx, s.admin);
    expect(log.items[1]).toMatchObject({ status: 429, result: 'RATE_LIMITED', keyId: s.key.id });
  });
});
