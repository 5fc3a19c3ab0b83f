/**
 * Respondent sessions. A respondent who signed in (auth token, create-user JWT, password)
 * holds a respondent access token: a JWT (HS256, key derived from SECRET_KEY) naming the
 * respondent, the survey and the respondent's token version. Browsers get it as an httpOnly
 * cookie per survey; API clients send it as `Authorization: Bearer`. Rotating the auth token
 * bumps the version, so every session made from the old token dies at once.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { and, eq } from 'drizzle-orm';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Db } from '../db/client.ts';
import { respondents, surveys } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { deriveKey } from '../lib/crypto.ts';

export const RESPONDENT_SESSION_TTL_SECONDS = 7 * 24 * 3600;
const ISSUER = 'surveybridge-respondent';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type RespondentRow = typeof respondents.$inferSelect;
export type SurveyRow = typeof surveys.$inferSelect;

export const respondentCookieName = (surveyId: number) => `sb_r${surveyId}`;

export class RespondentSessions {
  private readonly key: Uint8Array;
  constructor(private readonly db: Db, masterKey: Buffer, private readonly publicUrl: string) {
    this.key = deriveKey(masterKey, 'respondent-session');
  }

  async issue(respondent: Pick<RespondentRow, 'id' | 'surveyId' | 'tokenVersion'>): Promise<string> {
    return new SignJWT({ sv: respondent.surveyId, tv: respondent.tokenVersion })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject(String(respondent.id))
      .setIssuedAt()
      .setExpirationTime(`${RESPONDENT_SESSION_TTL_SECONDS}s`)
      .sign(this.key);
  }

  /** Signs the respondent in on this browser (httpOnly, SameSite=Lax cookie scoped to the survey). */
  async setCookie(reply: FastifyReply, respondent: Pick<RespondentRow, 'id' | 'surveyId' | 'tokenVersion'>): Promise<string> {
    const token = await this.issue(respondent);
    reply.setCookie(respondentCookieName(respondent.surveyId), token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.publicUrl.startsWith('https:'),
      maxAge: RESPONDENT_SESSION_TTL_SECONDS,
    });
    return token;
  }

  private async verify(token: string): Promise<{ respondentId: number; surveyId: number; tokenVersion: number } | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER });
      const respondentId = Number(payload.sub);
      if (!Number.isInteger(respondentId) || typeof payload.sv !== 'number' || typeof payload.tv !== 'number') return null;
      return { respondentId, surveyId: payload.sv, tokenVersion: payload.tv };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
  }

  /**
   * The signed-in respondent of survey `slug`, from `Authorization: Bearer` or the survey's
   * cookie; null when there is none (or it is invalid, or for another survey). Cookie writes
   * must come from our own origin (CSRF defence on top of SameSite=Lax).
   */
  async current(request: FastifyRequest, slug: string): Promise<{ respondent: RespondentRow; survey: SurveyRow } | null> {
    const [survey] = await this.db.select().from(surveys).where(eq(surveys.slug, slug));
    if (!survey) throw new AppError('SURVEY_NOT_FOUND', `survey "${slug}" not found`);
    let token: string | undefined;
    let viaCookie = false;
    const header = request.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new AppError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
      token = m[1];
    } else {
      token = request.cookies?.[respondentCookieName(survey.id)];
      viaCookie = true;
    }
    if (!token) return null;
    const claims = await this.verify(token);
    if (!claims || claims.surveyId !== survey.id) return null;
    const [respondent] = await this.db
      .select()
      .from(respondents)
      .where(and(eq(respondents.id, claims.respondentId), eq(respondents.surveyId, survey.id)));
    if (!respondent || respondent.tokenVersion !== claims.tokenVersion) return null;
    if (viaCookie && !SAFE_METHODS.has(request.method)) this.checkOrigin(request);
    return { respondent, survey };
  }

  /** Like `current`, but 401 UNAUTHENTICATED when nobody is signed in. */
  async require(request: FastifyRequest, slug: string): Promise<{ respondent: RespondentRow; survey: SurveyRow }> {
    const found = await this.current(request, slug);
    if (!found) throw new AppError('UNAUTHENTICATED', 'sign in to this survey first (auth link, create-user link or password)');
    return found;
  }

  private checkOrigin(request: FastifyRequest) {
    let origin = request.headers.origin;
    if (!origin && request.headers.referer) {
      try {
        origin = new URL(request.headers.referer).origin;
      } catch {
        origin = undefined;
      }
    }
    const own = new URL(this.publicUrl).origin;
    const host = request.headers.host;
    // Same-origin requests name our public origin (or, behind no proxy, the Host they were sent to).
    if (!origin || (origin !== own && !(host && (origin === `http://${host}` || origin === `https://${host}`)))) {
      throw new AppError('CSRF_FAILED', 'cookie-authenticated writes must come from the survey page (Origin check)');
    }
  }
}
