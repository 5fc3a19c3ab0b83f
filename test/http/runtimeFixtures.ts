/**
 * Test fixtures for the runtime: an active survey with a definition, respondents inserted
 * directly (the sign-in routes belong to the respondents domain), and the survey's events.
 */
import { asc, eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { events, respondents } from '../../src/db/schema/index.ts';
import { randomToken, sha256Hex } from '../../src/lib/crypto.ts';
import { unique, type TestAdmin, type TestContext } from '../helpers/app.ts';

export const BASIC_DEFINITION = {
  questions: [
    { id: 'name', type: 'text', label: 'Your name', required: true },
    { id: 'age', type: 'number', label: 'Age', required: true, min: 0, max: 130 },
    { id: 'colour', type: 'single', label: 'Favourite colour', options: [{ value: 'red', label: 'Red' }, { value: 'blue', label: 'Blue' }] },
    { id: 'pets', type: 'multi', label: 'Pets', options: [{ value: 'cat', label: 'Cat' }, { value: 'dog', label: 'Dog' }] },
    { id: 'smoker', type: 'boolean', label: 'Do you smoke?' },
    { id: 'born', type: 'date', label: 'Date of birth' },
    { id: 'notes', type: 'longtext', label: 'Anything else?' },
  ],
  screening: [
    { when: { question: 'age', lt: 18 }, outcome: 'disqualified', status: 14 },
    { when: { question: 'smoker', equals: true }, outcome: 'disqualified' },
  ],
  completion: { message: 'Thank you!', redirectTimer: 0 },
};

export async function activeSurvey(ctx: TestContext, admin: TestAdmin, definition: unknown = BASIC_DEFINITION, settings: Record<string, unknown> = {}) {
  const slug = await ctx.newSurvey(admin, { state: 'active', followUpUrl: 'https://panel.example/done', ...settings });
  const res = await ctx.inject({ method: 'PUT', url: `/api/admin/surveys/${slug}/definition`, headers: admin.headers, payload: definition as object });
  expect(res.statusCode, res.body).toBe(200);
  const survey = await ctx.services().surveys.getPublic(slug);
  return { slug, survey };
}

export async function newRespondent(ctx: TestContext, slug: string, opts: { username?: string; test?: boolean; l1?: string } = {}) {
  const services = ctx.services();
  const survey = await services.surveys.getPublic(slug);
  const token = randomToken();
  const [respondent] = await services.database.db
    .insert(respondents)
    .values({
      surveyId: survey.id, username: opts.username ?? unique('r'), createdVia: 'admin', test: opts.test ?? false, l1: opts.l1 ?? null,
      authTokenSealed: services.box.seal(token), authTokenHash: sha256Hex(token), status: 'started', startedAt: new Date(),
    })
    .returning();
  const bearer = await services.respondentSessions.issue(respondent);
  return { respondent, token, bearer, headers: { authorization: `Bearer ${bearer}` } };
}

export async function eventsOf(ctx: TestContext, surveyId: number) {
  const rows = await ctx.services().database.db.select().from(events).where(eq(events.surveyId, surveyId)).orderBy(asc(events.seq));
  return rows.map((r) => ({ type: r.type, data: (r.payload as { data: Record<string, unknown> }).data, payload: r.payload }));
}

/** A create-user JWT (HS256, five minutes) for `claims`, signed with the survey's `jwtSecret`. */
export function createUserJwt(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));
}

/** PATCH a survey's settings as `admin`. */
export function patchSurvey(ctx: TestContext, admin: TestAdmin, slug: string, payload: Record<string, unknown>) {
  return ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload });
}
