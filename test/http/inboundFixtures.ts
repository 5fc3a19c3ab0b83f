/** Shared steps of the inbound webhook tests: an account with a survey, a key and respondents. */
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { TestAdmin, TestContext } from '../helpers/app.ts';
import { rowsOf } from '../../src/db/client.ts';

export interface InboundSetup {
  admin: TestAdmin;
  slug: string;
  surveyId: number;
  key: { id: string; key: string; auth: string; urlTemplate: string; accountId: number };
  /** /webhooks/{accountId}/{key}/{auth} */
  base: string;
}

export async function inboundSetup(ctx: TestContext, settings: Record<string, unknown> = {}): Promise<InboundSetup> {
  const admin = await ctx.newAdmin();
  const slug = await ctx.newSurvey(admin, settings);
  const survey = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}`, headers: admin.headers });
  const res = await ctx.inject({ method: 'POST', url: '/api/admin/inbound-keys', headers: admin.headers, payload: { name: 'CRM' } });
  expect(res.statusCode).toBe(201);
  const key = res.json();
  return { admin, slug, surveyId: survey.json().id, key, base: `/webhooks/${admin.accountId}/${key.key}/${key.auth}` };
}

export async function newRespondent(ctx: TestContext, s: InboundSetup, username: string, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${s.slug}/respondents`, headers: s.admin.headers, payload: { username, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().userId;
}

export async function respondent(ctx: TestContext, s: InboundSetup, username: string) {
  const res = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${s.slug}/respondents/${encodeURIComponent(username)}`, headers: s.admin.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

export async function eventsOf(ctx: TestContext, surveyId: number): Promise<{ type: string; payload: { data: Record<string, unknown> } }[]> {
  return rowsOf(await ctx.services().database.db.execute(sql`SELECT type, payload FROM events WHERE survey_id = ${surveyId} ORDER BY seq`));
}

export async function auditLog(ctx: TestContext, admin: TestAdmin, query = '') {
  const res = await ctx.inject({ method: 'GET', url: `/api/admin/inbound-log${query}`, headers: admin.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Record<string, unknown>[]; nextCursor: string | null };
}

/** Every table but the audit log, hashed: a refused call must leave it unchanged. */
export async function fingerprint(ctx: TestContext): Promise<string> {
  const db = ctx.services().database.db;
  const tables = rowsOf<{ tablename: string }>(await db.execute(sql`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE '%drizzle%' AND tablename <> 'inbound_log' ORDER BY 1`));
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const [row] = rowsOf<{ h: string }>(await db.execute(sql.raw(`SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS h FROM "${tablename}" t`)));
    parts.push(`${tablename}:${row.h}`);
  }
  return parts.join(';');
}

export const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
