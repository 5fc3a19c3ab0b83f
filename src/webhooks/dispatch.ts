/**
 * Turns a leased delivery into one HTTP attempt and records it. Shared by the worker and by
 * inline (sync, test, retry-button) sends, so every path signs, logs and backs off the same way.
 */
import { inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { surveys, webhookEndpoints } from '../db/schema/index.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { EndpointsService, EndpointRow } from './endpoints.ts';
import { renderBody } from './formats.ts';
import type { AttemptResult, WebhookSender } from './sender.ts';
import { authHeaders, loggableHeaders, MissingSecretError, USER_AGENT } from './signing.ts';
import { outcomeOf, type ClaimedDelivery, type DeliveryStore } from './store.ts';

type SurveyRow = typeof surveys.$inferSelect;

export interface DispatchResult {
  deliveryId: string;
  endpointId: string;
  attempt: AttemptResult & { at: string };
  /** The delivery's state after this attempt (null: the lease was lost meanwhile). */
  state: string | null;
  nextAttemptAt: Date | null;
}

export class Dispatcher {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly endpoints: EndpointsService,
    readonly store: DeliveryStore,
    private readonly sender: WebhookSender,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Endpoints and surveys of a batch, one query each. */
  async context(batch: ClaimedDelivery[]) {
    const endpointIds = [...new Set(batch.map((d) => d.endpointId))];
    const eps = endpointIds.length ? await this.db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds)) : [];
    const surveyIds = [...new Set(eps.map((e) => e.surveyId))];
    const svs = surveyIds.length ? await this.db.select().from(surveys).where(inArray(surveys.id, surveyIds)) : [];
    return { endpoints: new Map(eps.map((e) => [e.id, e])), surveys: new Map(svs.map((s) => [s.id, s])) };
  }

  /** Sends a delivery `owner` holds the lease of, and records the attempt. */
  async dispatch(delivery: ClaimedDelivery, endpoint: EndpointRow | undefined, survey: SurveyRow | undefined, owner: string): Promise<DispatchResult> {
    const at = new Date();
    let result: AttemptResult;
    let logged: Record<string, string> = {};
    if (!endpoint || !survey) {
      // Deleted between claim and send (the cascade will remove the delivery too).
      result = { statusCode: null, latencyMs: 0, error: 'the endpoint was deleted', responseExcerpt: null, retryAfterSeconds: null, blocked: true };
    } else {
      try {
        const body = renderBody(endpoint.format, delivery.event);
        const staticHeaders = this.endpoints.staticHeaders(endpoint);
        const headers: Record<string, string> = {
          ...staticHeaders,
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...(await authHeaders({
            auth: this.endpoints.auth(endpoint),
            previousSecret: this.endpoints.previousSecret(endpoint, at),
            eventId: delivery.event.id,
            url: endpoint.url,
            body,
            subject: delivery.event.respondent?.username ?? survey.slug,
            surveyJwtSecret: survey.jwtSecretSealed ? this.box.open(survey.jwtSecretSealed) : null,
            issuer: (survey.settings.notificationIssuer as string | undefined) ?? 'surveybridge',
            now: at,
          })),
        };
        logged = loggableHeaders(headers, Object.keys(staticHeaders));
        result = await this.sender.send(endpoint.url, headers, body, endpoint.timeoutMs);
      } catch (err) {
        const message = err instanceof MissingSecretError ? err.message : `could not prepare the request: ${(err as Error).message}`;
        // A configuration problem: retrying the same request cannot fix it (retry after fixing).
        result = { statusCode: null, latencyMs: 0, error: message, responseExcerpt: null, retryAfterSeconds: null, blocked: true };
      }
    }
    const outcome = outcomeOf(result);
    const recorded = await this.store.record(delivery.id, owner, at, result, logged);
    const label = recorded?.state === 'pending' ? 'retry' : outcome === 'succeeded' ? 'succeeded' : 'failed';
    this.metrics.deliveriesTotal.inc({ result: label });
    this.metrics.attemptDuration.observe({ result: label }, result.latencyMs / 1000);
    if (outcome !== 'succeeded') {
      this.log.debug({ deliveryId: delivery.id, endpointId: delivery.endpointId, statusCode: result.statusCode, error: result.error, state: recorded?.state }, 'webhook attempt failed');
    }
    return {
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      attempt: { ...result, at: at.toISOString() },
      state: recorded?.state ?? null,
      nextAttemptAt: recorded?.nextAttemptAt ?? null,
    };
  }

  /** Loads and sends deliveries this `owner` already leased, all at once; results in input order. */
  async dispatchLeased(ids: string[], owner: string): Promise<DispatchResult[]> {
    const batch = await this.store.load(ids);
    const ctx = await this.context(batch);
    return Promise.all(
      batch.map((d) => {
        const ep = ctx.endpoints.get(d.endpointId);
        return this.dispatch(d, ep, ep ? ctx.surveys.get(ep.surveyId) : undefined, owner);
      }),
    );
  }
}
