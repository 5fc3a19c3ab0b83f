import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { respondents } from '../../src/db/schema/index.ts';
import { signUrl, stripHash, verifyLink } from '../../src/redirects/signing.ts';

const SECRET = 'partner-shared-secret-0001';
const FAILURE = 'https://partner.example/failure';

describe('signed entry links and entry parameters', () => {
  const ctx = setupApp();
  const publicUrl = () => ctx.config().publicUrl;
  /** The path + query of a full URL, as the browser would request it. */
  const pathOf = (full: string) => full.slice(publicUrl().length);

  async function newRespondent(admin: TestAdmin, slug: string) {
    const res = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: `u-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` } });
    expect(res.statusCode).toBe(201);
    return res.json() as { userId: number; username: string; authUrl: string; shortAuthUrl: string };
  }
  const stored = async (userId: number) => (await ctx.services().database.db.select().from(respondents).where(eq(respondents.id, userId)))[0];

  it('lets a correctly signed auth link in, and captures whitelisted entry parameters', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { linkSigningSecret: SECRET, requireSignedEntry: true, entryParams: ['mid', 'src'] });
    const r = await newRespondent(admin, slug);
    expect(verifyLink(r.authUrl, SECRET)).toBe('valid'); // the respondents domain signs auth URLs the same way
    const withMid = signUrl(`${stripHash(r.authUrl)}&mid=MS4wSM8xLjUx&src=a%20b&other=x`, SECRET);
    const res = await ctx.inject({ method: 'GET', url: pathOf(withMid) });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`/surveys/${slug}`);
    expect(String(res.headers['set-cookie'])).toContain('sb_r');
    const row = await stored(r.userId);
    // "a b" is outside the safe alphabet, "other" is not whitelisted: neither is kept.
    expect(row.entryParams).toEqual({ mid: 'MS4wSM8xLjUx' });
    expect(row.entrySurveyId).toBe(row.surveyId);

    // The latest entry wins per name; names it does not carry are kept.
    const short = signUrl(`${stripHash(r.shortAuthUrl)}?mid=second`, SECRET);
    expect((await ctx.inject({ method: 'GET', url: pathOf(short) })).statusCode).toBe(302);
    expect((await stored(r.userId)).entryParams).toEqual({ mid: 'second' });
  });

  it('sends a missing signature to the failure URL with status 1, an invalid one with status 2, writing nothing', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, {
      linkSigningSecret: SECRET, requireSignedEntry: true, entryParams: ['mid'], redirectParams: ['surveyId'], outcomeUrls: { disqualified: FAILURE },
    });
    const r = await newRespondent(admin, slug);
    const unsigned = `${stripHash(r.authUrl)}&mid=m1`;
    const missing = await ctx.inject({ method: 'GET', url: pathOf(unsigned) });
    expect(missing.statusCode).toBe(302);
    const loc1 = String(missing.headers.location);
    expect(loc1.startsWith(`${FAILURE}?surveyId=${slug}&status=1&hash=`)).toBe(true);
    expect(verifyLink(loc1, SECRET)).toBe('valid');
    expect(missing.headers['set-cookie']).toBeUndefined();

    const tampered = signUrl(unsigned, SECRET).replace('mid=m1', 'mid=m2');
    const invalid = await ctx.inject({ method: 'GET', url: pathOf(tampered) });
    expect(String(invalid.headers.location).startsWith(`${FAILURE}?surveyId=${slug}&status=2&hash=`)).toBe(true);
    const wrongKey = await ctx.inject({ method: 'GET', url: pathOf(signUrl(unsigned, 'some-other-secret-000')) });
    expect(String(wrongKey.headers.location)).toContain('status=2');
    const short = await ctx.inject({ method: 'GET', url: pathOf(stripHash(r.shortAuthUrl)) });
    expect(String(short.headers.location)).toContain('status=1');
    const row = await stored(r.userId);
    expect(row.entryParams).toEqual({});
    expect(row.status).toBe('created');
  });

  it('sends a respondent who already has an outcome to the failure URL with status 7', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { linkSigningSecret: SECRET, requireSignedEntry: true, outcomeUrls: { disqualified: FAILURE } });
    const r = await newRespondent(admin, slug);
    await ctx.services().database.db.update(respondents).set({ status: 'completed' }).where(eq(respondents.id, r.userId));
    const again = await ctx.inject({ method: 'GET', url: pathOf(r.authUrl) });
    expect(again.statusCode).toBe(302);
    const location = String(again.headers.location);
    expect(location.startsWith(`${FAILURE}?status=7&hash=`)).toBe(true);
    expect(verifyLink(location, SECRET)).toBe('valid');
    expect((await ctx.inject({ method: 'GET', url: pathOf(r.shortAuthUrl) })).headers.location).toBe(location);
    // Without a failure URL, the survey page itself says they have taken part.
    const plain = await ctx.newSurvey(admin, {});
    const p = await newRespondent(admin, plain);
    await ctx.services().database.db.update(respondents).set({ status: 'completed' }).where(eq(respondents.id, p.userId));
    expect((await ctx.inject({ method: 'GET', url: pathOf(p.authUrl) })).headers.location).toBe(`/surveys/${plain}`);
  });

  it('shows an error page (no redirect) when there is no failure URL, also for create-user links', async () => {
    const admin = await ctx.newAdmin();
    const jwtSecret = 'jwt-secret-for-create-user-01';
    const slug = await ctx.newSurvey(admin, { linkSigningSecret: SECRET, requireSignedEntry: true, allowUserGeneration: true, jwtSecret });
    const jwt = await new SignJWT({ username: 'created-1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(jwtSecret));
    const unsigned = `/surveys/${slug}?createUser=${jwt}`;
    const refused = await ctx.inject({ method: 'GET', url: unsigned });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toContain('text/html');
    expect(refused.body).toContain('status 1');
    // Nothing was created by the refused link.
    const list = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers });
    expect(list.json().items).toHaveLength(0);
    const signed = signUrl(publicUrl() + unsigned, SECRET);
    const ok = await ctx.inject({ method: 'GET', url: pathOf(signed) });
    expect(ok.statusCode).toBe(302);
    expect(ok.headers.location).toBe(`/surveys/${slug}`);
  });

  it('leaves unsigned links alone when the survey does not require signatures, and refuses requireSignedEntry without a secret', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { entryParams: ['mid'] });
    const r = await newRespondent(admin, slug);
    const res = await ctx.inject({ method: 'GET', url: pathOf(`${r.authUrl}&mid=plain`) });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`/surveys/${slug}`);
    expect((await stored(r.userId)).entryParams).toEqual({ mid: 'plain' });
    const noSecret = await ctx.inject({ method: 'PATCH', url: `/api/admin/surveys/${slug}`, headers: admin.headers, payload: { requireSignedEntry: true } });
    expect(noSecret.statusCode).toBe(400);
    expect(noSecret.json().error.message).toContain('requireSignedEntry');
  });
});
