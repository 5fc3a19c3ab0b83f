/**
 * Routes of the domains beyond the foundation register here, one line each, so that
 * app.ts stays small and each domain's routes live in their own file.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import type { RequireAdmin } from '../adminAuth.ts';
import { respondentRoutes } from './respondents.ts';
import { respondentEntryRoutes } from './respondentEntry.ts';
import { runtimeRoutes } from './runtime.ts';
import { recordRoutes } from './records.ts';
import { redirectRoutes } from './redirects.ts';
import { redirectEntryHooks } from '../../redirects/entryHooks.ts';
import { combineEntryHooks, panelEntryHooks } from '../../redirects/panelHooks.ts';
import { webhookRoutes } from './webhooks.ts';
import { inboundRoutes } from './inbound.ts';
import { panelRoutes } from './panel.ts';

export async function registerDomainRoutes(_app: FastifyInstance, _services: Services, _requireAdmin: RequireAdmin): Promise<void> {
  // Domain route plugins are added here.
  await _app.register(respondentRoutes(_services, _requireAdmin));
  await _app.register(respondentEntryRoutes(_services, combineEntryHooks(redirectEntryHooks(_services), panelEntryHooks(_services))));
  await _app.register(redirectRoutes(_services, _requireAdmin));
  await _app.register(webhookRoutes(_services, _requireAdmin));
  await _app.register(inboundRoutes(_services, _requireAdmin));
  await _app.register(runtimeRoutes(_services, _requireAdmin));
  await _app.register(recordRoutes(_services, _requireAdmin));
  await _app.register(panelRoutes(_services, _requireAdmin));
}
