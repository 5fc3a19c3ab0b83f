/**
 * The delivery worker: claims due deliveries from the outbox and sends them. `serve` runs it
 * in-process; `surveybridge worker` runs it alone, and several may share one PostgreSQL.
 *
 * Woken by NOTIFY on the schema's deliveries channel (emitEvent, retry, replay), by a timer
 * at the next known retry time, and by a poll as the safety net (a lost notification, an
 * expired lease of a dead worker). Claims only as many deliveries as it has free slots, so
 * every claimed delivery starts at once and its lease never runs out waiting in memory.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Services } from '../services.ts';
import { deliveriesChannel } from '../events/outbox.ts';

export interface WorkerHandle {
  /** Stops claiming, waits for in-flight attempts, releases leases. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Safety-net poll interval (ms). */
  pollMs?: number;
  /** Attempts in flight at once, across endpoints. */
  concurrency?: number;
  /** Attempts in flight at once for one endpoint. */
  perEndpoint?: number;
}

const PURGE_EVERY_MS = 3600_000;

export async function startWorker(services: Services, opts: WorkerOptions = {}): Promise<WorkerHandle> {
  const pollMs = opts.pollMs ?? 2_000;
  const concurrency = opts.concurrency ?? 64;
  const perEndpoint = opts.perEndpoint ?? 32;
  const batchMin = Math.max(1, Math.floor(concurrency / 4));
  const { dispatcher, store } = services.webhooks;
  const log = services.log.child({ component: 'worker' });
  const owner = `worker:${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const inFlight = new Set<Promise<unknown>>();
  let running = true;
  let pumping = false;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let timerAt = Infinity;
  let lastPurge = 0;

  const wakeAt = (at: number) => {
    if (!running || at >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = null;
      timerAt = Infinity;
      kick();
    }, Math.max(0, at - Date.now()));
  };

  const kick = () => {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    void pump().finally(() => {
      pumping = false;
      if (again && running) {
        again = false;
        kick();
      }
    });
  };

  async function pump() {
    try {
      if (Date.now() - lastPurge > PURGE_EVERY_MS) {
        lastPurge = Date.now();
        // Retention runs beside the deliveries (batched deletes), never in front of them.
        const purge: Promise<unknown> = store
          .purge(services.config.retentionDays, { keepGoing: () => running })
          .then((n) => { if (n.attempts || n.deliveries) log.info(n, 'retention: deleted old attempts and finished deliveries'); })
          .catch((err) => { if (running) log.warn({ err }, 'retention clean-up failed; trying again in an hour'); })
          .finally(() => inFlight.delete(purge));
        inFlight.add(purge);
      }
      for (;;) {
        const free = concurrency - inFlight.size;
        // Claim in batches: one claim per finished attempt would cost a query per delivery.
        if (!running || free <= 0 || (inFlight.size > 0 && free < batchMin)) return;
        const batch = await store.claim(owner, free, perEndpoint);
        if (batch.length === 0) break;
        const ctx = await dispatcher.context(batch);
        // Started in event order (claim returns them sorted by event_seq): the per-endpoint ordering promise.
        for (const d of batch) {
          const ep = ctx.endpoints.get(d.endpointId);
          const p = dispatcher
            .dispatch(d, ep, ep ? ctx.surveys.get(ep.surveyId) : undefined, owner)
            .then((r) => {
              if (r.nextAttemptAt) wakeAt(r.nextAttemptAt.getTime());
            })
            .catch((err) => log.error({ err, deliveryId: d.id }, 'recording an attempt failed; the lease will expire and it is retried'))
            .finally(() => {
              inFlight.delete(p);
              kick();
            });
          inFlight.add(p);
        }
      }
      const next = await store.nextDueAt();
      if (next) wakeAt(next.getTime());
    } catch (err) {
      if (running) log.warn({ err }, 'claiming deliveries failed; trying again at the next poll');
    }
  }

  const unlisten = await services.database.listen(deliveriesChannel(services.database.schemaName), kick);
  const poll = setInterval(kick, pollMs);
  kick();
  log.info({ owner }, 'delivery worker started');

  return {
    async stop() {
      if (!running) return;
      running = false;
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      await unlisten().catch(() => {});
      while (pumping || inFlight.size > 0) {
        await Promise.race([...inFlight, new Promise((r) => setTimeout(r, 20))]);
      }
      await store.release(owner).catch(() => {});
      log.info({ owner }, 'delivery worker stopped');
    },
  };
}
