/**
 * Configuration comes from the environment only, and is validated once at start:
 * a bad value throws ConfigError naming the variable (the CLI exits 2 with it).
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export class ConfigError extends Error {
  constructor(public readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | null;
  /** PostgreSQL schema that holds the tables (tests use one schema per test app). */
  databaseSchema: string;
  dataDir: string;
  secretKey: Buffer;
  /** True when the key was generated into DATA_DIR at this start (the CLI warns). */
  secretKeyGenerated: boolean;
  adminEmail: string | null;
  adminPassword: string | null;
  logLevel: LogLevel;
  /** Requests per minute per IP on create-user and respondent login. */
  createUserRateLimit: number;
  /** Calls per minute per inbound key. */
  inboundRateLimit: number;
  webhookAllowPrivate: boolean;
  webhookAllowedSubnets: string[];
  /** Days to keep delivery attempts and finished deliveries. */
  retentionDays: number;
  /** Seconds of each retry delay (tests shorten the schedule); null = the documented schedule. */
  webhookRetryScheduleSeconds: number[] | null;
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function intVar(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function boolVar(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function urlVar(name: string, raw: string, protocols: string[]): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  return raw;
}

function decodeKey(name: string, raw: string): Buffer {
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(name, 'must be 32 bytes, base64-encoded (try: openssl rand -base64 32)');
  return key;
}

/** Reads and validates the whole configuration. Only side effect: the embedded-mode key file. */
export function loadConfig(env: Env = process.env): Config {
  const port = intVar(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const publicUrl = (env.PUBLIC_URL ? urlVar('PUBLIC_URL', env.PUBLIC_URL, ['http:', 'https:']) : `http://${hostForUrl}:${port}`).replace(/\/+$/, '');
  const databaseUrl = env.DATABASE_URL ? urlVar('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:']) : null;
  const databaseSchema = env.DATABASE_SCHEMA || 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) throw new ConfigError('DATABASE_SCHEMA', 'must be a lower-case SQL identifier');
  const dataDir = resolve(env.DATA_DIR || './data');
  const level = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  let secretKey: Buffer;
  let secretKeyGenerated = false;
  if (env.SECRET_KEY) {
    secretKey = decodeKey('SECRET_KEY', env.SECRET_KEY);
  } else if (databaseUrl) {
    throw new ConfigError('SECRET_KEY', 'is required when DATABASE_URL is set (openssl rand -base64 32)');
  } else {
    // Embedded mode: the key lives beside the database it protects.
    const keyFile = join(dataDir, 'secret.key');
    if (existsSync(keyFile)) {
      secretKey = decodeKey('SECRET_KEY', readFileSync(keyFile, 'utf8'));
    } else {
      mkdirSync(dataDir, { recursive: true });
      secretKey = randomBytes(32);
      writeFileSync(keyFile, secretKey.toString('base64') + '\n', { mode: 0o600 });
      secretKeyGenerated = true;
    }
  }

  const adminEmail = env.ADMIN_EMAIL || null;
  const adminPassword = env.ADMIN_PASSWORD || null;
  if (adminEmail && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) throw new ConfigError('ADMIN_EMAIL', 'must be an email address');
  if (adminPassword !== null && adminPassword.length < 8) throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');

  const subnets = (env.WEBHOOK_ALLOWED_SUBNETS || '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of subnets) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s)) throw new ConfigError('WEBHOOK_ALLOWED_SUBNETS', `"${s}" is not a CIDR subnet`);
  }
  let schedule: number[] | null = null;
  if (env.WEBHOOK_RETRY_SCHEDULE) {
    schedule = env.WEBHOOK_RETRY_SCHEDULE.split(',').map((s) => Number(s.trim()));
    if (schedule.length === 0 || schedule.some((n) => !Number.isFinite(n) || n < 0)) {
      throw new ConfigError('WEBHOOK_RETRY_SCHEDULE', 'must be a comma-separated list of seconds');
    }
  }

  return {
    port,
    host,
    publicUrl,
    databaseUrl,
    databaseSchema,
    dataDir,
    secretKey,
    secretKeyGenerated,
    adminEmail,
    adminPassword,
    logLevel: level,
    createUserRateLimit: intVar(env, 'CREATE_USER_RATE_LIMIT', 6000, 1, 10_000_000),
    inboundRateLimit: intVar(env, 'INBOUND_RATE_LIMIT', 600, 1, 10_000_000),
    webhookAllowPrivate: boolVar(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    webhookAllowedSubnets: subnets,
    retentionDays: intVar(env, 'RETENTION_DAYS', 30, 1, 3650),
    webhookRetryScheduleSeconds: schedule,
  };
}
