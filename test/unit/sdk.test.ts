import { describe, expect, it } from 'vitest';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { Webhook } from 'standardwebhooks';
import { NotificationError, createUserApiUrl, createUserToken, createUserUrl, signLink, verifyLink, verifyNotification } from '../../src/sdk/index.ts';

const secret = 'survey-jwt-secret-0123456789';

describe('SDK', () => {
  it('makes create-user tokens that jose verifies, with the seed claim names', async () => {
    for (const alg of ['HS256', 'HS512'] as const) {
      const token = createUserToken({ secret, user: 'ext-42', redirect: 'https://panel.example/back', name: 'Ann', customFields: { site: 'A' }, alg, singleUse: true });
      const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: [alg] });
      expect(protectedHeader.alg).toBe(alg);
      expect(payload).toMatchObject({ user: 'ext-42', redirect: 'https://panel.example/back', name: 'Ann', customFields: { site: 'A' } });
      expect(typeof payload.jti).toBe('string');
      expect(payload.exp! - payload.iat!).toBe(3600);
    }
  });

  it('builds the browser and API create-user URLs', () => {
    const opts = { secret, user: 'u1', publicUrl: 'https://s.example/', survey: 'diet' };
    expect(createUserUrl(opts)).toMatch(/^https:\/\/s\.example\/surveys\/diet\?createUser=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(createUserApiUrl(opts)).toMatch(/^https:\/\/s\.example\/api\/surveys\/diet\/create-user\?params=[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('signs links as HMAC-SHA256 base64url of the whole URL, appended last, and verifies them', () => {
    const url = 'https://panel.example/done?surveyId=diet&userId=ext-42&status=13';
    const signed = signLink(url, 'link-secret');
    const expected = createHmac('sha256', 'link-secret').update(url).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(signed).toBe(`${url}&hash=${expected}`);
    expect(verifyLink(signed, 'link-secret')).toBe(true);
    expect(verifyLink(signed, 'other-secret')).toBe(false);
    expect(verifyLink(signed.replace('status=13', 'status=10'), 'link-secret')).toBe(false);
    expect(verifyLink(url, 'link-secret')).toBe(false);
    expect(signLink('https://p.example/x', 's')).toMatch(/^https:\/\/p\.example\/x\?hash=/);
    // The same signed content behind another separator is not the URL that was signed.
    expect(verifyLink(signed.replace('&hash=', '?hash='), 'link-secret')).toBe(false);
  });

  it('verifies a JWT-authenticated delivery: signature, audience, expiry and body hash', async () => {
    const body = JSON.stringify({ id: 'e1', type: 'submission.completed', data: { recordId: 1 } });
    const url = 'https://receiver.example/hook';
    const jwt = await new SignJWT({ body_sha256: createHash('sha256').update(body).digest('hex') })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('surveybridge').setSubject('ext-42').setAudience(url)
      .setIssuedAt().setExpirationTime('300s').setJti('e1').sign(new TextEncoder().encode(secret));
    const headers = { authorization: `Bearer ${jwt}` };
    expect(verifyNotification({ headers, body, secret, url }).type).toBe('submission.completed');
    const fail = (o: Partial<Parameters<typeof verifyNotification>[0]>) => {
      try {
        verifyNotification({ headers, body, secret, url, ...o });
      } catch (err) {
        return (err as NotificationError).code;
      }
      return 'accepted';
    };
    expect(fail({ secret: 'wrong-secret' })).toBe('BAD_SIGNATURE');
    expect(fail({ url: 'https://elsewhere.example/' })).toBe('WRONG_AUDIENCE');
    expect(fail({ body: body.replace('1', '2') })).toBe('BODY_MISMATCH');
    expect(fail({ now: new Date(Date.now() + 3600_000) })).toBe('EXPIRED');
    expect(fail({ headers: {} })).toBe('MISSING_SIGNATURE');
  });

  it('verifies a Standard Webhooks delivery like the standardwebhooks package, including a rotated secret', () => {
    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    const old = `whsec_${randomBytes(32).toString('base64')}`;
    const body = JSON.stringify({ id: 'msg_1', type: 'ping', data: {} });
    const ts = new Date();
    const sig = new Webhook(whsec).sign('msg_1', ts, body);
    const oldSig = new Webhook(old).sign('msg_1', ts, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)), 'webhook-signature': `${sig} ${oldSig}` };
    expect(verifyNotification({ headers, body, secret: whsec }).type).toBe('ping');
    expect(verifyNotification({ headers, body, secret: old }).type).toBe('ping');
    expect(() => verifyNotification({ headers, body: `${body} `, secret: whsec })).toThrow(NotificationError);
    expect(() => verifyNotification({ headers, body, secret: whsec, now: new Date(ts.getTime() + 301_000) })).toThrow(/too far/);
  });
});
