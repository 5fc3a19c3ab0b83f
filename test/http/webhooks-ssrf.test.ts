import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApp } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';

// Private addresses not allowed: the production default.
describe('webhook SSRF guard, end to end', () => {
  const ctx = setupApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function testSend(url: string) {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const created = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks`, headers: admin.headers, payload: { url, events: ['*'], auth: { type: 'none' } } });
    expect(created.statusCode).toBe(201);
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/webhooks/${created.json().id}/test`, headers: admin.headers });
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  it('refuses a hostname that resolves to loopback, after DNS resolution', async () => {
    const res = await testSend(`http://localhost:${receiver.port}/ssrf`);
    expect(res.ok).toBe(false);
    expect(res.attempt.statusCode).toBeNull();
    expect(res.attempt.error).toMatch(/refused: localhost resolves to .*loopback/);
    // Refusal is a configuration problem: failed, not retried.
    expect(res.delivery.state).toBe('failed');
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses literal loopback addresses in both families', async () => {
    for (const url of [`http://127.0.0.1:${receiver.port}/ssrf`, `http://[::1]:${receiver.port}/ssrf`, `http://[::ffff:127.0.0.1]:${receiver.port}/ssrf`]) {
      const res = await testSend(url);
      expect(res.attempt.error, url).toMatch(/^refused: .*loopback/);
    }
    expect(receiver.requests).toHaveLength(0);
  });
});
