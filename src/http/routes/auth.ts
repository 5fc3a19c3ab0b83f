import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { SESSION_TTL_SECONDS } from '../../auth/service.ts';
import { SESSION_COOKIE, type RequireAdmin } from '../adminAuth.ts';
import { errors } from '../schemas.ts';

const Me = Type.Object({
  userId: Type.Integer(),
  email: Type.String(),
  superuser: Type.Boolean(),
  account: Type.Object({ id: Type.Integer(), name: Type.String(), role: Type.String() }),
  accounts: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), role: Type.String() })),
});

export function authRoutes(services: Services, requireAdmin: RequireAdmin): FastifyPluginAsync {
  return async (app) => {
    const secureCookie = services.config.publicUrl.startsWith('https:');

    app.post('/api/auth/login', {
      schema: {
        tags: ['auth'],
        summary: 'Sign in: an access token for API calls and a session cookie for the console',
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ accessToken: Type.String(), expiresIn: Type.Integer(), csrfToken: Type.String() }),
          ...errors(400, 401, 429),
        },
      },
    }, async (request, reply) => {
      const { email, password } = request.body as { email: string; password: string };
      const result = await services.auth.login(email, password, request.ip);
      reply.setCookie(SESSION_COOKIE, result.sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookie,
        maxAge: SESSION_TTL_SECONDS,
      });
      return { accessToken: result.accessToken, expiresIn: result.expiresIn, csrfToken: result.csrfToken };
    });

    app.post('/api/auth/logout', {
      schema: { tags: ['auth'], summary: 'End the browser session', response: { 200: Type.Object({ ok: Type.Boolean() }) } },
    }, async (request, reply) => {
      await services.auth.logout(request.cookies?.[SESSION_COOKIE]);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    });

    app.get('/api/admin/me', {
      schema: { tags: ['auth'], summary: 'The signed-in user, the current account and role, and every account of the user', response: { 200: Me, ...errors(401, 404) } },
    }, async (request) => {
      const p = await requireAdmin(request);
      const accounts = await services.accounts.userAccounts(p.userId);
      const current = accounts.find((a) => a.id === p.accountId)!;
      return { userId: p.userId, email: p.email, superuser: p.superuser, account: current, accounts: p.via === 'api_token' ? [current] : accounts };
    });
  };
}
