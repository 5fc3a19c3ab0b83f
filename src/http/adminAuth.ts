/**
 * Who is calling an /api/admin route: `Authorization: Bearer <access JWT | API token>` or the
 * session cookie (whose writes must carry the CSRF token). Handlers call `requireAdmin`
 * explicitly with the least role the action needs.
 */
import type { FastifyRequest } from 'fastify';
import type { Role } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { roleAtLeast } from '../accounts/service.ts';
import type { Principal } from '../auth/service.ts';
import type { Services } from '../services.ts';
import { safeEqual } from '../lib/crypto.ts';

export const SESSION_COOKIE = 'sb_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type RequireAdmin = (request: FastifyRequest, minRole?: Role) => Promise<Principal>;

export function adminAuthenticator(services: Services): RequireAdmin {
  return async (request, minRole = 'viewer') => {
    const requested = request.headers['x-account'];
    const account = Array.isArray(requested) ? requested[0] : requested;
    let principal: Principal | null = null;
    const header = request.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new AppError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
      const token = m[1];
      if (token.startsWith('sbt_')) {
        principal = await services.auth.principalForApiToken(token);
        // An API token belongs to one account; asking for another is "not found".
        if (principal && account !== undefined && account.trim() !== String(principal.accountId)) {
          throw new AppError('ACCOUNT_NOT_FOUND', 'account not found');
        }
      } else {
        const user = await services.auth.verifyAccessToken(token);
        if (user) principal = await services.auth.principalForUser(user.userId, account, 'access_token');
      }
      if (!principal) throw new AppError('UNAUTHENTICATED', 'the token is invalid, expired or revoked');
    } else {
      const sessionId = request.cookies?.[SESSION_COOKIE];
      if (!sessionId) throw new AppError('UNAUTHENTICATED', 'sign in or send Authorization: Bearer <token>');
      const session = await services.auth.session(sessionId);
      if (!session) throw new AppError('UNAUTHENTICATED', 'the session has ended; sign in again');
      if (!SAFE_METHODS.has(request.method)) {
        const sent = request.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !safeEqual(sent, session.csrfToken)) {
          throw new AppError('CSRF_FAILED', `cookie-authenticated writes need the ${CSRF_HEADER} header from sign-in`);
        }
      }
      principal = await services.auth.principalForUser(session.userId, account, 'session');
    }
    if (!roleAtLeast(principal.role, minRole)) {
      throw new AppError('FORBIDDEN', `this needs the ${minRole} role or higher; you are ${principal.role}`);
    }
    return principal;
  };
}
