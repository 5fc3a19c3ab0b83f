import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';

const key = Buffer.alloc(32, 7).toString('base64');

function expectConfigError(env: Record<string, string>, variable: string) {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    return;
  }
  throw new Error(`expected ${variable} to be refused`);
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cfg-'));
    const c = loadConfig({ DATA_DIR: dir, SECRET_KEY: key });
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:3000', databaseUrl: null, logLevel: 'info', retentionDays: 30, webhookAllowPrivate: false });
    rmSync(dir, { recursive: true });
  });

  it('derives PUBLIC_URL from HOST and PORT, and strips a trailing slash from a given one', () => {
    expect(loadConfig({ SECRET_KEY: key, PORT: '8080', HOST: '::1' }).publicUrl).toBe('http://[::1]:8080');
    expect(loadConfig({ SECRET_KEY: key, PUBLIC_URL: 'https://surveys.example/' }).publicUrl).toBe('https://surveys.example');
  });

  it('generates the key into DATA_DIR on first start in embedded mode, and reads it back later', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cfg-'));
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.secretKeyGenerated).toBe(true);
    expect(first.secretKey).toHaveLength(32);
    expect(statSync(join(dir, 'secret.key')).mode & 0o077).toBe(0);
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.secretKeyGenerated).toBe(false);
    expect(second.secretKey.equals(first.secretKey)).toBe(true);
    expect(readFileSync(join(dir, 'secret.key'), 'utf8').trim()).toBe(first.secretKey.toString('base64'));
    rmSync(dir, { recursive: true });
  });

  it('requires SECRET_KEY with DATABASE_URL', () => {
    expectConfigError({ DATABASE_URL: 'postgres://localhost/x' }, 'SECRET_KEY');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ SECRET_KEY: 'dG9vIHNob3J0' }, 'SECRET_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ADMIN_EMAIL: 'nope' }, 'ADMIN_EMAIL'],
    [{ ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ WEBHOOK_ALLOW_PRIVATE: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE'],
    [{ WEBHOOK_ALLOWED_SUBNETS: '10.0.0.0' }, 'WEBHOOK_ALLOWED_SUBNETS'],
    [{ WEBHOOK_RETRY_SCHEDULE: '5,x' }, 'WEBHOOK_RETRY_SCHEDULE'],
    [{ RETENTION_DAYS: '0' }, 'RETENTION_DAYS'],
    [{ DATABASE_SCHEMA: 'Bad-Name' }, 'DATABASE_SCHEMA'],
  ])('refuses %o naming %s', (env, variable) => {
    expectConfigError({ SECRET_KEY: key, ...env } as Record<string, string>, variable);
  });
});
