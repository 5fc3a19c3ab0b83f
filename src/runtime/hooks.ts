/**
 * After a runtime transaction commits: attempt its sync webhook deliveries inline (TrialKit
 * hooks are synchronous: the user waits for the answer and sees a "protocol error" when one
 * fails) and resolve redirects. Both collaborators belong to other domains and are optional:
 * without the webhooks domain the answer carries `hooks: []` and the worker delivers later;
 * without the redirects domain the follow-up URL is used.
 */
import type { RedirectResolver } from './service.ts';

export interface HookResult {
  endpointId: string;
  /** The delivery to retry (POST /api/surveys/{slug}/session/hooks/{deliveryId}/retry). */
  deliveryId: string | null;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

interface MaybeWebhooks {
  webhooks?: { runSyncDeliveries?: (ids: string[]) => Promise<unknown> };
  redirects?: { resolveRedirect?: (input: Record<string, unknown>) => unknown };
}

export async function runSyncHooks(services: object, ids: string[], log: { warn(obj: object, msg: string): void }): Promise<HookResult[]> {
  const webhooks = (services as MaybeWebhooks).webhooks;
  if (ids.length === 0 || typeof webhooks?.runSyncDeliveries !== 'function') return [];
  try {
    const results = await webhooks.runSyncDeliveries(ids);
    if (!Array.isArray(results)) return [];
    return results.map((r: Record<string, unknown>) => ({
      endpointId: String(r.endpointId ?? ''),
      deliveryId: typeof r.deliveryId === 'string' ? r.deliveryId : null,
      ok: r.ok === true,
      statusCode: typeof r.statusCode === 'number' ? r.statusCode : null,
      error: typeof r.error === 'string' ? r.error : null,
    }));
  } catch (err) {
    // The change is committed; the worker retries the reserved deliveries once their lease ends.
    log.warn({ err }, 'sync webhook deliveries failed to run');
    return ids.map((id) => ({ endpointId: '', deliveryId: id, ok: false, statusCode: null, error: 'the hook could not be called' }));
  }
}

export function redirectResolver(services: object): RedirectResolver | undefined {
  const redirects = (services as MaybeWebhooks).redirects;
  if (typeof redirects?.resolveRedirect !== 'function') return undefined;
  return (input) => redirects.resolveRedirect!.call(redirects, input);
}
