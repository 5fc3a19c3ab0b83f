/**
 * The delivery worker: claims due deliveries from the outbox and sends them.
 * (Implemented by the webhooks domain; `serve` runs it in-process, `worker` alone.)
 */
import type { Services } from '../services.ts';

export interface WorkerHandle {
  /** Stops claiming, waits for in-flight attempts, releases leases. */
  stop(): Promise<void>;
}

export async function startWorker(_services: Services): Promise<WorkerHandle> {
  return { async stop() {} };
}
