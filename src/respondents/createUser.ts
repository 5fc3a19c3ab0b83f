/**
 * On-the-fly respondents from a signed JWT (Intake24's `?createUser=` / `create-user?params=`).
 *
 * Checks, in order: the survey exists (404), allows user generation and has a secret (403),
 * is not closed (403), the token is at most 8 KB (400); then the token itself: HS256/HS512
 * only, signature with the survey's jwtSecret, exp/nbf (and the survey's jwtMaxAgeSeconds on
 * iat), not our own notification issuer, jti single-use (401s); then the claims (400
 * INVALID_CLAIMS naming the claim). The respondent is created or found with
 * INSERT … ON CONFLICT (never find-then-create), in the transaction that also burns the jti.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { sql } from 'drizzle-orm';
import type { Database, Db, Tx } from '../db/client.ts';
import { rowsOf } from '../db/client.ts';
import { AppError } from '../errors.ts';
import type { SurveysService, SurveyRow } from '../surveys/service.ts';
import { LABELS, LIMITS, checkRedirectUrl, checkText, checkUsername, normaliseCustomFields } from './fields.ts';
import type { RespondentChanges, RespondentRow, RespondentsService } from './service.ts';

export const MAX_TOKEN_BYTES = 8 * 1024;
export const JWT_ALGORITHMS = ['HS256', 'HS512'];
/** Seconds of clock skew tolerated on exp, nbf and iat. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** How long a jti without exp stays used. */
export const JTI_TTL_WITHOUT_EXP_SECONDS = 24 * 3600;
export const DEFAULT_NOTIFICATION_ISSUER = 'surveybridge';
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

export interface CreateUserResult {
  respondent: RespondentRow;
  survey: SurveyRow;
  created: boolean;
  authToken: string;
  authUrl: string;
}

function invalidClaim(claim: string, reason: string): AppError {
  return new AppError('INVALID_CLAIMS', `claim "${claim}" ${reason}`, { claim, fields: [{ path: `/claims/${claim}`, message: reason }] });
}

/** The claims we read, checked; throws INVALID_CLAIMS naming the first bad one. */
export function parseClaims(payload: JWTPayload, survey: Pick<SurveyRow, 'allowedRedirectOrigins'>): { username: string; changes: RespondentChanges } {
  const p = payload as Record<string, unknown>;
  // v3 `user` or v4 `username`: one is required; both must agree.
  if (p.user !== undefined && p.username !== undefined && p.user !== p.username) {
    throw invalidClaim('username', 'differs from "user"; send one of them');
  }
  const userClaim = p.user !== undefined ? 'user' : 'username';
  const username = p.user !== undefined ? p.user : p.username;
  if (username === undefined || username === null) throw invalidClaim('user', 'is required (or "username")');
  const u = checkUsername(username);
  if (u) throw invalidClaim(userClaim, u);

  const changes: RespondentChanges = {};
  if (p.redirect !== undefined && p.redirectUrl !== undefined && p.redirect !== p.redirectUrl) {
    throw invalidClaim('redirectUrl', 'differs from "redirect"; send one of them');
  }
  const redirectClaim = p.redirect !== undefined ? 'redirect' : 'redirectUrl';
  const redirect = p.redirect !== undefined ? p.redirect : p.redirectUrl;
  if (redirect !== undefined && redirect !== null) {
    const r = checkRedirectUrl(redirect, survey.allowedRedirectOrigins);
    if (r) throw invalidClaim(redirectClaim, r);
    changes.redirectUrl = redirect as string;
  }
  if (p.name !== undefined && p.name !== null) {
    const r = checkText(p.name, LIMITS.name);
    if (r) throw invalidClaim('name', r);
    changes.name = p.name as string;
  }
  for (const l of LABELS) {
    if (p[l] === undefined) continue;
    if (p[l] === null) {
      changes[l] = null;
      continue;
    }
    const r = checkText(p[l], LIMITS.label);
    if (r) throw invalidClaim(l, r);
    changes[l] = p[l] as string;
  }
  if (p.customFields !== undefined && p.customFields !== null) {
    const r = normaliseCustomFields(p.customFields);
    if ('path' in r) throw invalidClaim(`customFields${r.path}`, r.reason);
    changes.customFields = r.ok;
  }
  return { username: username as string, changes };
}

/** A create-user JWT already verified for this survey in this request (by the entry guard). */
export interface VerifiedCreateUser {
  token: string;
  payload: JWTPayload;
  /** The respondent its username names in the survey, or null, as read with the verification. */
  existing: RespondentRow | null;
}

export class CreateUserService {
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly database: Pick<Database, 'schemaName'>,
    private readonly surveys: SurveysService,
    private readonly respondents: RespondentsService,
  ) {}

  /** Verifies the token against the survey; returns its payload or throws the right 401. */
  async verify(token: string, survey: SurveyRow, secret: string): Promise<JWTPayload> {
    const maxAge = typeof survey.settings.jwtMaxAgeSeconds === 'number' ? survey.settings.jwtMaxAgeSeconds : undefined;
    let payload: JWTPayload;
    try {
      // Headers that name or carry a key are refused: the key is the survey's secret, always.
      const header = decodeProtectedHeader(token);
      if (KEY_HEADERS.some((h) => h in header)) throw new AppError('INVALID_TOKEN', 'the token header must not name or carry a key (jwk, jku, x5u, x5c)');
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
        algorithms: JWT_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(maxAge !== undefined ? { maxTokenAge: maxAge } : {}),
      }));
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw mapJoseError(err);
    }
    const issuer = typeof survey.settings.notificationIssuer === 'string' ? survey.settings.notificationIssuer : DEFAULT_NOTIFICATION_ISSUER;
    if (payload.iss === issuer) {
      throw new AppError('INVALID_TOKEN', `a token issued by "${issuer}" is a notification token, not a create-user token`);
    }
    if (payload.jti !== undefined && (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256)) {
      throw invalidClaim('jti', 'must be a string of 1 to 256 characters');
    }
    return payload;
  }

  /**
   * The whole create-user flow for a survey (by slug, or the row the caller already read)
   * and a raw token; `token` may be undefined (no token given: 401 INVALID_TOKEN).
   */
  async createUser(surveyOrSlug: SurveyRow | string, token: string | undefined, verified?: VerifiedCreateUser): Promise<CreateUserResult> {
    const survey = typeof surveyOrSlug === 'string' ? await this.surveys.getPublic(surveyOrSlug) : surveyOrSlug;
    const secret = survey.allowUserGeneration ? this.surveys.jwtSecret(survey) : null;
    if (!secret) throw new AppError('USER_GENERATION_DISABLED', 'this survey does not create respondents from tokens');
    if (survey.state === 'closed') {
      // Test respondents (verified claim `test: true`) may take a closed survey.
      const ok = token && Buffer.byteLength(token) <= MAX_TOKEN_BYTES ? await this.verify(token, survey, secret).catch(() => null) : null;
      if (ok?.test !== true) throw new AppError('SURVEY_CLOSED', 'this survey is closed');
    }
    if (token === undefined || token === '') throw new AppError('INVALID_TOKEN', 'no token was given (params, createUser or {"token": …})');
    if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) throw new AppError('TOKEN_TOO_LARGE', `the token is over ${MAX_TOKEN_BYTES} bytes`);

    // Only a verification of this very token counts; anything else is verified here.
    const known = verified && verified.token === token ? verified : undefined;
    const payload = known ? known.payload : await this.verify(token, survey, secret);
    const { username, changes } = parseClaims(payload, survey);
    const done = (row: RespondentRow, created: boolean): CreateUserResult => {
      const authToken = this.respondents.token(row);
      return { respondent: row, survey, created, authToken, authUrl: this.respondents.authUrls(survey, authToken).authUrl };
    };

    // Read path: a known respondent whose claims change nothing needs no transaction. Creation
    // never takes this path: it is always INSERT … ON CONFLICT below, so concurrent first
    // calls cannot make two rows.
    if (payload.jti === undefined) {
      const existing = known ? known.existing : await this.respondents.find(survey.id, username);
      if (existing && (await this.respondents.diff(existing, changes)).changed.length === 0) return done(existing, false);
    }

    const { row, created } = await this.db.transaction(async (tx) => {
      await this.useJti(tx, survey, payload);
      // JWT claim `test: true` (panel mode) makes a test respondent; set at creation only.
      return this.respondents.upsertIn(tx, survey, username, changes, 'jwt', '/claims', payload.test === true);
    });
    this.sweep();
    return done(row, created);
  }

  /**
   * Marks the token's `jti` (if any) used for `survey`, in the caller's transaction: 409
   * TOKEN_REPLAYED when it was used already. Also called when a create-user link moves the
   * respondent into a replacement survey, so the link cannot be replayed there either.
   */
  async useJti(tx: Tx, survey: Pick<SurveyRow, 'id'>, payload: JWTPayload): Promise<void> {
    if (typeof payload.jti !== 'string') return;
    const until = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : new Date(Date.now() + JTI_TTL_WITHOUT_EXP_SECONDS * 1000);
    // A used jti whose time is up may be used again (its token has expired by then).
    const fresh = rowsOf(await tx.execute(sql`
      INSERT INTO used_jwt_ids (survey_id, jti, expires_at) VALUES (${survey.id}, ${payload.jti}, ${until.toISOString()}::timestamptz)
      ON CONFLICT (survey_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE used_jwt_ids.expires_at < now()
      RETURNING 1`));
    if (fresh.length === 0) throw new AppError('TOKEN_REPLAYED', 'this token (jti) has been used already');
  }

  /** Drops used jtis whose time is up, at most once a minute per process, off the request path. */
  private sweep() {
    const now = Date.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    this.db.execute(sql`DELETE FROM used_jwt_ids WHERE expires_at < now()`).catch(() => {});
  }
}

function mapJoseError(err: unknown): AppError {
  if (err instanceof joseErrors.JWTExpired) {
    return new AppError('TOKEN_EXPIRED', err.claim === 'iat' ? "the token's iat is older than the survey allows" : 'the token has expired');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'check_failed' && (err.claim === 'nbf' || err.claim === 'iat')) {
      return new AppError('TOKEN_NOT_YET_VALID', 'the token is not valid yet');
    }
    return invalidClaim(err.claim, err.reason === 'missing' || /must be a number/.test(err.message) ? (err.claim === 'iat' ? 'is required (a number) by this survey' : 'must be a number') : err.message);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AppError('INVALID_TOKEN', 'the token must be signed with HS256 or HS512');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AppError('INVALID_TOKEN', 'the token signature is not valid for this survey');
  if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return new AppError('INVALID_TOKEN', 'the token is not a well-formed JWT');
  return new AppError('INVALID_TOKEN', 'the token is not a well-formed JWT');
}
