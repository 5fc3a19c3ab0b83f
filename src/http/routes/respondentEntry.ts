/**
 * How respondents get in: auth links (`/surveys/{slug}?auth=`, `/a/{token}`), the
 * create-user JWT (`/surveys/{slug}?createUser=`, `/api/surveys/{slug}/create-user`), and the
 * API forms (`POST /api/surveys/{slug}/auth`, `/login`). Browser routes answer an HTML error
 * page with the reason (never a silent fallback); API routes the JSON error shape.
 *
 * Other domains plug into entry with `EntryHooks` (signed entry links, pass-through
 * parameters): guards run before sign-in and may answer the request themselves; listeners
 * run after the respondent is known.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { AppError } from '../../errors.ts';
import { Nullable, errors } from '../schemas.ts';
import { RateLimiter } from '../../lib/rateLimiter.ts';
import type { RespondentRow } from '../../respondents/service.ts';
import type { VerifiedCreateUser } from '../../respondents/createUser.ts';
import type { SurveyRow } from '../../surveys/service.ts';
import { sendSurveyPage } from './web.ts';

export type EntryVia = 'auth' | 'short' | 'createUser' | 'api-auth' | 'api-login' | 'api-create-user';

export interface EntryContext {
  request: FastifyRequest;
  reply: FastifyReply;
  survey: SurveyRow;
  via: EntryVia;
  /** The respondent the entry's credential names, when the route has already looked it up (auth links). */
  known?: RespondentRow;
  /**
   * Set by a guard that verified this request's create-user JWT: the token, its payload and the
   * respondent it names (or null), so the create-user flow does not verify and look up again.
   */
  verifiedJwt?: VerifiedCreateUser;
}

/** A guard moved the respondent into another survey (a replacement): sign them in there. */
export interface EntryDiversion {
  survey: SurveyRow;
  respondent: RespondentRow;
}

export interface EntryHooks {
  /**
   * Before sign-in, once the survey is known. Return true when the guard has answered the
   * request, or a diversion to sign the respondent in to another survey instead.
   */
  guards: ((ctx: EntryContext) => Promise<boolean | EntryDiversion>)[];
  /** After the respondent is known (created or found), inside the request. */
  listeners: ((ctx: EntryContext & { respondent: RespondentRow }) => Promise<void>)[];
}

const SlugOnly = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) });
const EntryQuery = Type.Object(
  {
    auth: Type.Optional(Type.String({ maxLength: 16384, description: "The respondent's auth token" })),
    createUser: Type.Optional(Type.String({ maxLength: 16384, description: 'A create-user JWT' })),
  },
  { additionalProperties: true },
);
const Html = { 200: Type.String({ description: 'The survey page (HTML)' }), 302: Type.Null({ description: 'Signed in: on to the survey page' }) };
/** Present when the entry survey turned the respondent away and a replacement survey took them. */
const Moved = {
  surveyId: Type.Optional(Type.String({ description: 'Panel mode: the replacement survey (slug) the respondent was moved into; use it from now on' })),
  entrySurveyId: Type.Optional(Type.String({ description: 'Panel mode: the survey (slug) the respondent entered through' })),
};
const SignedIn = Type.Object({
  accessToken: Type.String({ description: 'Bearer token for the respondent API' }),
  userId: Type.Integer(),
  username: Type.String(),
  ...Moved,
});
const CreateUserAnswer = Type.Object({
  userId: Type.Integer(),
  username: Type.String(),
  redirect: Nullable(Type.String({ description: "The respondent's stored redirect URL" })),
  authToken: Type.String(),
  authUrl: Type.String(),
  ...Moved,
});
const CreateUserQuery = Type.Object({ params: Type.Optional(Type.String({ maxLength: 16384, description: 'The create-user JWT' })) }, { additionalProperties: true });
const CreateUserBody = Type.Union([
  Type.Object({
    token: Type.Optional(Type.String({ maxLength: 16384, description: 'The create-user JWT (Intake24 v4 form)' })),
    params: Type.Optional(Type.String({ maxLength: 16384 })),
  }),
  Type.Null(),
]);

export function respondentEntryRoutes(services: Services, hooks: EntryHooks = { guards: [], listeners: [] }): FastifyPluginAsync {
  const limit = services.config.createUserRateLimit;
  const perIp = new RateLimiter(limit, 60_000);
  const perLogin = new RateLimiter(10, 60_000);

  function rateLimit(request: FastifyRequest, key = request.ip, limiter = perIp) {
    const retry = limiter.hit(key);
    if (retry !== null) throw new AppError('RATE_LIMITED', 'too many requests; try again later', undefined, { 'retry-after': String(retry) });
  }

  /** 'answered' when a guard has answered, a diversion, or null to go on. */
  async function guard(ctx: EntryContext): Promise<'answered' | EntryDiversion | null> {
    for (const g of hooks.guards) {
      const r = await g(ctx);
      if (r === true) return 'answered';
      if (r) return r;
    }
    return null;
  }
  /** What API entries add when the respondent was moved: the survey to use from now on. */
  const moved = (entry: SurveyRow, d: EntryDiversion) => ({ surveyId: d.survey.slug, entrySurveyId: entry.slug });
  async function entered(ctx: EntryContext, respondent: RespondentRow) {
    for (const l of hooks.listeners) await l({ ...ctx, respondent });
  }

  const surveyPage = (slug: string) => `/surveys/${encodeURIComponent(slug)}`;

  async function signInWithToken(request: FastifyRequest, reply: FastifyReply, token: string, via: EntryVia, slug: string | null) {
    const found = await services.respondents.findByToken(token);
    if (!found || (slug !== null && found.survey.slug !== slug)) {
      if (slug !== null) await services.surveys.getPublic(slug); // an unknown survey is a 404 first
      throw new AppError('INVALID_TOKEN', 'This sign-in link is not valid. It may have been replaced by a newer one: ask whoever sent it for a new link.');
    }
    const ctx: EntryContext = { request, reply, survey: found.survey, via, known: found.respondent };
    const g = await guard(ctx);
    if (g === 'answered') return reply;
    if (g) {
      await services.respondentSessions.setCookie(reply, g.respondent);
      return reply.redirect(surveyPage(g.survey.slug), 302);
    }
    await entered(ctx, found.respondent);
    await services.respondentSessions.setCookie(reply, found.respondent);
    return reply.redirect(surveyPage(found.survey.slug), 302);
  }

  return async (app) => {
    app.get('/surveys/:slug', {
      config: { errorShape: 'html' },
      schema: {
        tags: ['respondent entry'],
        summary: 'The survey page; with ?auth={token} or ?createUser={jwt} it signs the respondent in first (cookie) and redirects here',
        params: SlugOnly,
        querystring: EntryQuery,
        response: Html,
      },
    }, async (request, reply) => {
      const { slug } = request.params as { slug: string };
      const q = request.query as { auth?: string | string[]; createUser?: string | string[] };
      const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
      const auth = first(q.auth);
      const jwt = first(q.createUser);
      if (auth !== undefined) {
        rateLimit(request);
        return signInWithToken(request, reply, auth, 'auth', slug);
      }
      if (jwt !== undefined) {
        rateLimit(request);
        const survey = await services.surveys.getPublic(slug);
        const ctx: EntryContext = { request, reply, survey, via: 'createUser' };
        const g = await guard(ctx);
        if (g === 'answered') return reply;
        if (g) {
          await services.respondentSessions.setCookie(reply, g.respondent);
          return reply.redirect(surveyPage(g.survey.slug), 302);
        }
        const result = await services.createUser.createUser(survey, jwt, ctx.verifiedJwt);
        await entered(ctx, result.respondent);
        await services.respondentSessions.setCookie(reply, result.respondent);
        return reply.redirect(surveyPage(slug), 302);
      }
      await services.surveys.getPublic(slug);
      return sendSurveyPage(reply);
    });

    app.get('/a/:token', {
      config: { errorShape: 'html' },
      schema: {
        tags: ['respondent entry'],
        summary: 'Short auth link: signs the respondent in (cookie) and redirects to their survey page',
        params: Type.Object({ token: Type.String({ maxLength: 2048 }) }),
        querystring: Type.Object({}, { additionalProperties: true }),
        response: { 302: Type.Null({ description: 'Signed in: on to the survey page' }) },
      },
    }, async (request, reply) => {
      rateLimit(request);
      return signInWithToken(request, reply, (request.params as { token: string }).token, 'short', null);
    });

    app.post('/api/surveys/:slug/auth', {
      schema: {
        tags: ['respondent entry'], summary: 'Exchange an auth token for a respondent access token (API clients)', params: SlugOnly,
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false }),
        response: { 200: SignedIn, ...errors(400, 401, 403, 404, 429) },
      },
    }, async (request, reply) => {
      rateLimit(request);
      const { slug } = request.params as { slug: string };
      const survey = await services.surveys.getPublic(slug);
      const found = await services.respondents.findByToken((request.body as { token: string }).token);
      if (!found || found.survey.id !== survey.id) throw new AppError('INVALID_TOKEN', 'the auth token is not valid for this survey');
      const ctx: EntryContext = { request, reply, survey, via: 'api-auth', known: found.respondent };
      const g = await guard(ctx);
      if (g === 'answered') return reply;
      if (g) return { accessToken: await services.respondentSessions.issue(g.respondent), userId: g.respondent.id, username: g.respondent.username, ...moved(survey, g) };
      await entered(ctx, found.respondent);
      return { accessToken: await services.respondentSessions.issue(found.respondent), userId: found.respondent.id, username: found.respondent.username };
    });

    app.post('/api/surveys/:slug/login', {
      schema: {
        tags: ['respondent entry'], summary: 'Sign in with username and password (respondents that have one); rate-limited', params: SlugOnly,
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 1024 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 200: SignedIn, ...errors(400, 401, 403, 404, 429) },
      },
    }, async (request, reply) => {
      const { slug } = request.params as { slug: string };
      const { username, password } = request.body as { username: string; password: string };
      rateLimit(request);
      rateLimit(request, `${slug}\u0000${username}`, perLogin);
      const { respondent, survey } = await services.respondents.checkPassword(slug, username, password);
      const ctx: EntryContext = { request, reply, survey, via: 'api-login', known: respondent };
      const g = await guard(ctx);
      if (g === 'answered') return reply;
      if (g) {
        await services.respondentSessions.setCookie(reply, g.respondent);
        return { accessToken: await services.respondentSessions.issue(g.respondent), userId: g.respondent.id, username: g.respondent.username, ...moved(survey, g) };
      }
      await entered(ctx, respondent);
      // Browsers that sign in with a password keep a session cookie too.
      await services.respondentSessions.setCookie(reply, respondent);
      return { accessToken: await services.respondentSessions.issue(respondent), userId: respondent.id, username: respondent.username };
    });

    const createUserSchema = {
      tags: ['respondent entry'],
      summary: 'Create (or find) a respondent from a signed JWT (?params= or {"token": …}) and answer their auth token and URL',
      description:
        'JWT: HS256 or HS512, signed with the survey\'s jwtSecret; claims user (v3) or username (v4), optional redirect/redirectUrl, name, customFields, l1..l10; ' +
        'exp/nbf enforced; jti single-use. Idempotent: the same user always gets the same userId and authToken.',
      params: SlugOnly,
      querystring: CreateUserQuery,
      response: { 200: CreateUserAnswer, ...errors(400, 401, 403, 404, 429) },
    };
    const createUserHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      rateLimit(request);
      const { slug } = request.params as { slug: string };
      const q = request.query as { params?: string | string[] };
      const body = (request.body ?? {}) as { token?: unknown; params?: unknown };
      let token: string | undefined = Array.isArray(q.params) ? q.params[0] : q.params;
      if (token === undefined && typeof body.token === 'string') token = body.token;
      if (token === undefined && typeof body.params === 'string') token = body.params;
      const survey = await services.surveys.getPublic(slug);
      const ctx: EntryContext = { request, reply, survey, via: 'api-create-user' };
      const g = await guard(ctx);
      if (g === 'answered') return reply;
      if (g) {
        const authToken = services.respondents.token(g.respondent);
        return {
          userId: g.respondent.id, username: g.respondent.username, redirect: g.respondent.redirectUrl,
          authToken, authUrl: services.respondents.authUrls(g.survey, authToken).authUrl, ...moved(survey, g),
        };
      }
      const result = await services.createUser.createUser(survey, token, ctx.verifiedJwt);
      await entered(ctx, result.respondent);
      return {
        userId: result.respondent.id,
        username: result.respondent.username,
        redirect: result.respondent.redirectUrl,
        authToken: result.authToken,
        authUrl: result.authUrl,
      };
    };
    app.get('/api/surveys/:slug/create-user', { schema: createUserSchema }, createUserHandler);
    app.post('/api/surveys/:slug/create-user', { schema: { ...createUserSchema, body: CreateUserBody } }, createUserHandler);
  };
}
