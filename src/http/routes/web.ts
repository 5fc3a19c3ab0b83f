/**
 * The built web UI (web/dist): hashed assets under /assets/, the admin console under /admin
 * (a single-page app: every /admin/* path answers the same page), and the respondent page,
 * which the survey routes send with `sendSurveyPage`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type } from 'typebox';

const DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));
const pageCache = new Map<string, string>();

function page(name: 'admin' | 'survey'): string {
  let html = pageCache.get(name);
  if (html === undefined) {
    const file = `${DIST}/${name}.html`;
    html = existsSync(file)
      ? readFileSync(file, 'utf8')
      : '<!doctype html><title>Surveybridge</title><p>The web UI is not built: run <code>npm run build:web</code>.</p>';
    if (existsSync(file)) pageCache.set(name, html);
  }
  return html;
}

export function sendPage(reply: FastifyReply, name: 'admin' | 'survey', status = 200) {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page(name));
}

export const sendSurveyPage = (reply: FastifyReply, status = 200) => sendPage(reply, 'survey', status);

export function webRoutes(): FastifyPluginAsync {
  return async (app) => {
    if (existsSync(`${DIST}/assets`)) {
      await app.register(fastifyStatic, {
        root: `${DIST}/assets`,
        prefix: '/assets/',
        immutable: true,
        maxAge: '365d',
        decorateReply: false,
        schemaHide: true,
      });
    }
    const html = { 200: Type.String({ description: 'HTML page' }) };
    app.get('/', { schema: { hide: true, response: html } }, async (_req, reply) => reply.redirect('/admin'));
    app.get('/admin', { schema: { tags: ['web'], summary: 'Admin console', response: html }, config: { errorShape: 'html' } }, async (_req, reply) => sendPage(reply, 'admin'));
    app.get('/admin/*', { schema: { tags: ['web'], summary: 'Admin console (client-side routes)', response: html }, config: { errorShape: 'html' } }, async (_req, reply) => sendPage(reply, 'admin'));
  };
}
