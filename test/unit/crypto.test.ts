import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SecretBox, hashPassword, randomToken, safeEqual, verifyPassword } from '../../src/lib/crypto.ts';
import { redactUrl } from '../../src/lib/redact.ts';

describe('crypto helpers', () => {
  it('seals and opens secrets; a tampered or foreign-key value does not open', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('s3cret');
    expect(sealed).not.toContain('s3cret');
    expect(box.seal('s3cret')).not.toBe(sealed); // fresh IV each time
    expect(box.open(sealed)).toBe('s3cret');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
  });

  it('makes URL-safe tokens that start with a letter or digit', () => {
    for (let i = 0; i < 500; i++) {
      const t = randomToken(24);
      expect(t).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{31}$/);
    }
  });

  it('hashes passwords with scrypt and verifies them', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash.startsWith('scrypt$')).toBe(true);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('wrong horse', hash)).toBe(false);
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('anything', 'garbage')).toBe(false);
  });

  it('compares strings in constant time, including different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });

  it('redacts secrets from URLs before they are logged', () => {
    expect(redactUrl('/webhooks/12/KEY/AUTH/update-respondent?l1=x')).toBe('/webhooks/12/[redacted]/[redacted]/update-respondent?l1=x');
    expect(redactUrl('/a/tok123')).toBe('/a/[redacted]');
    expect(redactUrl('/surveys/s?auth=tok&mid=7&createUser=jwt&hash=h')).toBe('/surveys/s?auth=[redacted]&mid=7&createUser=[redacted]&hash=[redacted]');
    expect(redactUrl('/api/surveys/s/create-user?params=eyJ')).toBe('/api/surveys/s/create-user?params=[redacted]');
  });
});
