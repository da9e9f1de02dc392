import type { Logger } from '../core/logger.js';
import type { TriggerSpec } from '../core/triggers/trigger.js';
import { toError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { LocalJob } from './job.js';
import { createLocalJobRepository, type LocalJobRepository, type StoredLocalJob } from './repository.js';

/**
 * The persistent side of the local lane: which stored rows are waiting for their function to be
 * registered again, and an ordered write queue so that a slow PostgreSQL write never blocks a fire
 * and two writes of one job never land out of order.
 *
 * A persistent job is identified by its id (functions cannot be stored, as with APScheduler's job
 * stores and their textual references): the code registers the function again at start-up and the
 * stored row gives back its schedule and counters.
 */
export class PersistentJobs {
  private readonly repository: LocalJobRepository;
  private stored: Map<string, StoredLocalJob> | null = null;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    store: Store,
    private readonly logger: Logger,
    private readonly onError: (operation: string, jobId: string | null, error: Error) => void,
  ) {
    this.repository = createLocalJobRepository(store);
  }

  get loaded(): boolean {
    return this.stored !== null;
  }

  async load(): Promise<void> {
    const rows = await this.repository.loadAll();
    this.stored = new Map(rows.map((row) => [row.id, row]));
  }

  /** The stored row of a job, handed out once: later registrations of the id start fresh. */
  take(id: string): StoredLocalJob | undefined {
    const row = this.stored?.get(id);
    if (row !== undefined) this.stored?.delete(id);
    return row;
  }

  /** Ids stored but not (yet) registered by the code. */
  unclaimed(): string[] {
    return this.stored === null ? [] : [...this.stored.keys()];
  }

  save(job: LocalJob, nowMs: number): void {
    const row = toStoredJob(job, nowMs);
    this.enqueue('save', job.id, () => this.repository.save(row));
  }

  remove(id: string): void {
    this.stored?.delete(id);
    this.enqueue('remove', id, () => this.repository.remove(id));
  }

  /** Resolves when every write queued so far has landed (or failed and been reported). */
  flush(): Promise<void> {
    return this.writes;
  }

  private enqueue(operation: string, jobId: string, write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((thrown: unknown) => {
      const error = toError(thrown);
      this.logger.error({ err: error, jobId, operation }, 'local job store write failed');
      this.onError(operation, jobId, error);
    });
  }
}

export function toStoredJob(job: LocalJob, nowMs: number): StoredLocalJob {
  const s = job.settings;
  return {
    id: job.id,
    name: job.name,
    triggerSpec: job.trigger.toSpec(),
    options: {
      misfireGraceTimeMs: s.misfireGraceTimeMs,
      coalesce: s.coalesce,
      maxInstances: s.maxInstances,
      jitterMs: s.jitterMs,
      timeoutMs: s.timeoutMs,
      budgetMs: s.budgetMs,
    },
    nextRunMs: job.fireMs,
    paused: job.paused,
    runCount: job.runCount,
    missedCount: job.missedCount,
    lastRunMs: job.lastRunMs,
    lastResult: job.lastResult,
    lastError: job.lastError,
    lastState: job.state,
    updatedAtMs: nowMs,
  };
}

/**
 * Whether a stored schedule is the one the code registers again. An interval's anchor is left out:
 * `every('30s')` anchors at "now + 30 s" each time the process starts, yet it is the same schedule,
 * and the stored anchor is the one to keep (so a restart does not shift the grid).
 */
export function sameSchedule(stored: TriggerSpec, registered: TriggerSpec): boolean {
  return JSON.stringify(withoutAnchor(stored)) === JSON.stringify(withoutAnchor(registered));
}

function withoutAnchor(spec: TriggerSpec): unknown {
  switch (spec.kind) {
    case 'interval':
      return { kind: spec.kind, everyMs: spec.everyMs, endMs: spec.endMs ?? null };
    case 'and':
    case 'or':
      return { kind: spec.kind, triggers: spec.triggers.map(withoutAnchor) };
    case 'cron':
      return { kind: spec.kind, expression: spec.expression, timezone: spec.timezone ?? null, startMs: spec.startMs ?? null, endMs: spec.endMs ?? null };
    case 'date':
      return { kind: spec.kind, atMs: spec.atMs };
  }
}
