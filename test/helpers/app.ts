/**
 * Test harness: one app per test file, on an in-memory PGlite by default, or on the
 * PostgreSQL of DATABASE_URL in a schema of its own (dropped at the end). Each test makes
 * its own account and admin with `newAdmin()`, so no test depends on rows another made.
 */
import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createServices, type Services } from '../../src/services.ts';
import { buildApp } from '../../src/app.ts';
import type { Role } from '../../src/db/schema/index.ts';
import { LogCapture } from './logs.ts';

export interface TestAdmin {
  accountId: number;
  userId: number;
  email: string;
  password: string;
  token: string;
  headers: Record<string, string>;
}

export interface TestContext {
  app(): FastifyInstance;
  services(): Services;
  config(): Config;
  logs: LogCapture;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** A fresh account with an admin of the given role (owner by default). */
  newAdmin(role?: Role, accountId?: number): Promise<TestAdmin>;
  /** A fresh survey in the admin's account; returns its slug. */
  newSurvey(admin: TestAdmin, settings?: Record<string, unknown>): Promise<string>;
}

export const usingPostgres = () => Boolean(process.env.DATABASE_URL);

export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    SECRET_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'sb-test-')),
    PUBLIC_URL: 'http://127.0.0.1:3000',
    LOG_LEVEL: 'debug',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...extra,
  };
  if (process.env.DATABASE_URL) {
    env.DATABASE_URL = process.env.DATABASE_URL;
    env.DATABASE_SCHEMA = `t_${randomBytes(6).toString('hex')}`;
  }
  return env;
}

export async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export function setupApp(opts: { env?: Record<string, string> } = {}): TestContext {
  let app: FastifyInstance;
  let services: Services;
  let config: Config;
  const logs = new LogCapture();

  beforeAll(async () => {
    config = loadConfig(testEnv(opts.env));
    services = await createServices(config, createLogger(config.logLevel, logs.stream()), { pgliteInMemory: true });
    await services.database.migrate();
    app = await buildApp(services);
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await services?.close();
    if (config?.databaseUrl) await dropSchema(config.databaseSchema);
    if (config) rmSync(config.dataDir, { recursive: true, force: true });
  });

  const ctx: TestContext = {
    app: () => app,
    services: () => services,
    config: () => config,
    logs,
    inject: (o) => app.inject(o),
    async newAdmin(role = 'owner', accountId) {
      const email = `${unique('admin')}@example.test`;
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const created = await services.accounts.createUser({ email, password, role, accountId, accountName: unique('account') });
      const token = await services.auth.issueAccessToken(created.userId);
      return { accountId: created.accountId, userId: created.userId, email, password, token, headers: { authorization: `Bearer ${token}` } };
    },
    async newSurvey(admin, settings = {}) {
      const slug = unique('s').toLowerCase();
      const res = await app.inject({ method: 'POST', url: '/api/admin/surveys', headers: admin.headers, payload: { slug, name: `Survey ${slug}`, ...settings } });
      if (res.statusCode !== 201) throw new Error(`newSurvey failed: ${res.statusCode} ${res.body}`);
      return slug;
    },
  };
  return ctx;
}
