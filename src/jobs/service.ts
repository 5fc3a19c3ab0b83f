/**
 * Long-running admin work (CSV imports) as jobs: `queued → running → succeeded | failed`,
 * with progress visible while it runs. A job runs in the process that received its input;
 * that process keeps the live state in memory and writes it to the `jobs` row at most once
 * a second (never waiting on it, so a job holding PGlite's one connection in a transaction
 * does not block itself). A job whose row has not moved for STALE_AFTER_MS while not
 * finished was interrupted (its process stopped); it is reported, and stored, as failed.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { jobs, type JobState } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';

export const STALE_AFTER_MS = 5 * 60_000;
const FLUSH_EVERY_MS = 1000;

export interface JobView {
  id: string;
  kind: string;
  state: JobState;
  /** What a running job is doing now (an import: "validating", then "writing"). */
  phase: string | null;
  processed: number;
  total: number | null;
  errors: unknown[];
  result: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

/** The live handle of a running job, owned by the code that runs it. */
export class JobHandle {
  view: JobView;
  private lastFlush = 0;
  private flushing: Promise<void> | null = null;
  private dirty = false;
  readonly done: Promise<JobView>;
  private resolveDone!: (v: JobView) => void;

  constructor(private readonly db: Db, view: JobView, private readonly onEnd: (id: string) => void) {
    this.view = view;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Updates progress in memory; written to the row at most once a second, in the background. */
  progress(p: { phase?: string | null; processed?: number; total?: number | null }) {
    Object.assign(this.view, p, { state: 'running' as JobState, updatedAt: new Date().toISOString() });
    this.dirty = true;
    if (Date.now() - this.lastFlush >= FLUSH_EVERY_MS) this.flush();
  }

  private flush() {
    if (this.flushing) return;
    this.lastFlush = Date.now();
    this.dirty = false;
    const v = this.view;
    this.flushing = this.db
      .update(jobs)
      .set({ state: v.state, processed: v.processed, total: v.total, result: { ...(v.result ?? {}), phase: v.phase }, updatedAt: new Date() })
      .where(eq(jobs.id, v.id))
      .then(() => undefined, () => undefined)
      .finally(() => {
        this.flushing = null;
      });
  }

  async finish(state: 'succeeded' | 'failed', result: Record<string, unknown>, errors: unknown[] = []): Promise<JobView> {
    Object.assign(this.view, { state, result, errors, phase: null, updatedAt: new Date().toISOString() });
    if (this.flushing) await this.flushing;
    const v = this.view;
    await this.db
      .update(jobs)
      .set({ state, processed: v.processed, total: v.total, errors, result, updatedAt: new Date() })
      .where(eq(jobs.id, v.id));
    this.onEnd(v.id);
    this.resolveDone(v);
    return v;
  }

  get pendingWrite() {
    return this.dirty;
  }
}

function toView(row: typeof jobs.$inferSelect): JobView {
  const result = row.result ?? null;
  const finished = row.state === 'succeeded' || row.state === 'failed';
  const phase = !finished && result && typeof result.phase === 'string' ? result.phase : null;
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    phase,
    processed: row.processed,
    total: row.total,
    errors: row.errors,
    result: finished ? result : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export class JobsService {
  private readonly live = new Map<string, JobHandle>();

  constructor(private readonly db: Db) {}

  async start(accountId: number, kind: string): Promise<JobHandle> {
    const [row] = await this.db.insert(jobs).values({ accountId, kind, state: 'queued' }).returning();
    const handle = new JobHandle(this.db, toView(row), (id) => this.live.delete(id));
    this.live.set(row.id, handle);
    return handle;
  }

  /** Jobs of this process that have not finished (graceful shutdown waits for them). */
  running(): JobHandle[] {
    return [...this.live.values()];
  }

  async get(accountId: number, id: string): Promise<JobView> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new AppError('JOB_NOT_FOUND', 'job not found');
    const [row] = await this.db.select().from(jobs).where(and(eq(jobs.id, id), eq(jobs.accountId, accountId)));
    if (!row) throw new AppError('JOB_NOT_FOUND', 'job not found');
    const live = this.live.get(id);
    if (live) return { ...live.view };
    const view = toView(row);
    if ((view.state === 'queued' || view.state === 'running') && Date.now() - row.updatedAt.getTime() > STALE_AFTER_MS) {
      const result = { interrupted: true };
      const errors = [{ line: null, column: null, code: 'interrupted', message: 'the job stopped with its process before it finished; nothing was written' }];
      await this.db.update(jobs).set({ state: 'failed', result, errors, updatedAt: new Date() }).where(eq(jobs.id, id));
      return { ...view, state: 'failed', phase: null, result, errors };
    }
    return view;
  }
}
