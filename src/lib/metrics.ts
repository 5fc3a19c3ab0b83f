/** Prometheus metrics, one registry per services object (tests build many apps in one process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../db/client.ts';

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly deliveriesTotal: Counter<'result'>;
  readonly attemptDuration: Histogram<'result'>;
  /** Panel mode: entries turned away, by status code, and members moved into a replacement survey. */
  readonly entryRefusals: Counter<'status'>;
  readonly replacementMoves: Counter;

  constructor(database: Database) {
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.deliveriesTotal = new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook attempts by result (succeeded, retry, failed)',
      labelNames: ['result'],
      registers: [this.registry],
    });
    this.attemptDuration = new Histogram({
      name: 'webhook_attempt_duration_seconds',
      help: 'Latency of webhook attempts',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.entryRefusals = new Counter({
      name: 'entry_refusals_total',
      help: 'Entries turned away by panel-mode rules, by status code (9 banned, 6 closed, 11 full, 19 screened out, …)',
      labelNames: ['status'],
      registers: [this.registry],
    });
    this.replacementMoves = new Counter({
      name: 'replacement_moves_total',
      help: 'Entries moved into a replacement survey',
      registers: [this.registry],
    });
    // Gauges read their value at scrape time.
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const s = database.poolStats();
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    new Gauge({
      name: 'outbox_depth',
      help: 'Deliveries waiting to be sent',
      registers: [this.registry],
      async collect() {
        try {
          const rows = rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM deliveries WHERE state = 'pending'`));
          this.set(rows[0].n);
        } catch {
          /* database down: keep the last value */
        }
      },
    });
  }
}
