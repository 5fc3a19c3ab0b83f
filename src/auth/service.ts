/**
 * Admin authentication: password login (rate-limited per IP and per email), browser
 * sessions (cookie + CSRF double-submit token), short-lived access JWTs and API tokens.
 * A principal is who acts, in which account, with which role.
 */
import { and, eq, gt, lt } from 'drizzle-orm';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Db } from '../db/client.ts';
import { adminSessions, users, type Role } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { deriveKey, randomToken, sha256Hex, verifyPassword } from '../lib/crypto.ts';
import { RateLimiter } from '../lib/rateLimiter.ts';
import type { AccountsService } from '../accounts/service.ts';

export const ACCESS_TOKEN_TTL_SECONDS = 900;
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const ADMIN_ISSUER = 'surveybridge-admin';

export interface Principal {
  userId: number;
  email: string;
  superuser: boolean;
  accountId: number;
  role: Role;
  via: 'session' | 'access_token' | 'api_token';
}

export class AuthService {
  private readonly jwtKey: Uint8Array;
  private readonly perIp = new RateLimiter(30, 60_000);
  private readonly perEmail = new RateLimiter(10, 60_000);

  constructor(private readonly db: Db, private readonly accounts: AccountsService, masterKey: Buffer) {
    this.jwtKey = deriveKey(masterKey, 'admin-access-token');
  }

  async login(email: string, password: string, ip: string) {
    const retryIp = this.perIp.hit(ip);
    const retryEmail = this.perEmail.hit(email.trim().toLowerCase());
    const retry = retryIp ?? retryEmail;
    if (retry !== null) {
      throw new AppError('RATE_LIMITED', 'too many sign-in attempts; try again later', undefined, { 'retry-after': String(retry) });
    }
    const user = await this.accounts.findUserByEmail(email);
    // verifyPassword spends the same time for unknown users, so timing does not reveal emails.
    const ok = await verifyPassword(password, user?.passwordHash ?? null);
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS', 'email or password is wrong');

    const sessionId = randomToken(32);
    const csrfToken = randomToken(24);
    await this.db.insert(adminSessions).values({
      idHash: sha256Hex(sessionId),
      userId: user.id,
      csrfToken,
      expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000),
    });
    // Expired sessions are cleaned up opportunistically at login.
    await this.db.delete(adminSessions).where(lt(adminSessions.expiresAt, new Date()));
    const accessToken = await this.issueAccessToken(user.id);
    return { accessToken, expiresIn: ACCESS_TOKEN_TTL_SECONDS, sessionId, csrfToken, userId: user.id };
  }

  /** A short-lived access JWT for the user (login answers it; tests mint them directly). */
  async issueAccessToken(userId: number): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ADMIN_ISSUER)
      .setAudience('admin-api')
      .setSubject(String(userId))
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
      .sign(this.jwtKey);
  }

  async logout(sessionId: string | undefined) {
    if (sessionId) await this.db.delete(adminSessions).where(eq(adminSessions.idHash, sha256Hex(sessionId)));
  }

  /** The session behind a cookie value, or null. */
  async session(sessionId: string) {
    const [row] = await this.db
      .select({ userId: adminSessions.userId, csrfToken: adminSessions.csrfToken, email: users.email, superuser: users.superuser })
      .from(adminSessions)
      .innerJoin(users, eq(users.id, adminSessions.userId))
      .where(and(eq(adminSessions.idHash, sha256Hex(sessionId)), gt(adminSessions.expiresAt, new Date())));
    return row ?? null;
  }

  /** The user behind an access JWT, or null (bad, expired or foreign tokens alike). */
  async verifyAccessToken(token: string): Promise<{ userId: number } | null> {
    try {
      const { payload } = await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'], issuer: ADMIN_ISSUER, audience: 'admin-api' });
      const userId = Number(payload.sub);
      return Number.isInteger(userId) ? { userId } : null;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
  }

  /**
   * Picks the account for a user: `X-Account` when given (404 if the user is not in it,
   * so account ids do not leak), else the user's first account.
   */
  async principalForUser(userId: number, requestedAccount: string | undefined, via: Principal['via']): Promise<Principal> {
    const [user] = await this.db.select({ email: users.email, superuser: users.superuser }).from(users).where(eq(users.id, userId));
    if (!user) throw new AppError('UNAUTHENTICATED', 'the user of this credential no longer exists');
    const memberships = await this.accounts.userAccounts(userId);
    let chosen = memberships[0];
    if (requestedAccount !== undefined) {
      chosen = memberships.find((m) => String(m.id) === requestedAccount.trim())!;
      if (!chosen) throw new AppError('ACCOUNT_NOT_FOUND', 'account not found');
    }
    if (!chosen) throw new AppError('FORBIDDEN', 'this user belongs to no account');
    return { userId, email: user.email, superuser: user.superuser, accountId: chosen.id, role: chosen.role, via };
  }

  async principalForApiToken(token: string): Promise<Principal | null> {
    const row = await this.accounts.findToken(token);
    if (!row) return null;
    const [user] = await this.db.select({ email: users.email, superuser: users.superuser }).from(users).where(eq(users.id, row.createdBy));
    if (!user) return null;
    return { userId: row.createdBy, email: user.email, superuser: false, accountId: row.accountId, role: row.role, via: 'api_token' };
  }
}
