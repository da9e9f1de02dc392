import type { Logger } from '../core/logger.js';
import { triggerFromSpec } from '../core/triggers/index.js';
import { toError } from '../errors.js';
import type { LocalJob } from './job.js';
import { sameSchedule } from './persistence.js';
import type { StoredLocalJob } from './repository.js';

/** What restoring a persistent job may do to the scheduler. */
export interface RestoreDeps {
  logger: Logger;
  /** Sets the job's pending fire (and puts it on the heap unless paused). */
  setFire: (job: LocalJob, fireMs: number) => void;
  /** Unregisters a job whose schedule has no more fires. */
  finish: (job: LocalJob) => void;
  /** Writes the job's row. */
  save: (job: LocalJob, nowMs: number) => void;
}

/**
 * The glue between a registered persistent job and its stored row: gives the job back its stored
 * schedule and counters. Same schedule → resume from the stored next fire (a past one is due now,
 * and the misfire policy decides); a changed schedule → the code wins and the next fire is computed
 * from now. Paused state comes from the store (a pause made from the UI survives a deploy).
 *
 * @param firstFireMs the registered trigger's first fire from now, when the caller computed it already.
 */
export function restoreJob(job: LocalJob, row: StoredLocalJob | undefined, nowMs: number, firstFireMs: number | null | undefined, deps: RestoreDeps): void {
  job.awaitingRestore = false;
  const fromNow = firstFireMs === undefined ? job.trigger.next(nowMs - 1) : firstFireMs;
  if (row === undefined) {
    if (fromNow === null) {
      deps.logger.warn({ jobId: job.id }, 'persistent job has no stored row and its trigger never fires; removed');
      deps.finish(job);
      return;
    }
    deps.setFire(job, fromNow);
    deps.save(job, nowMs);
    return;
  }
  job.runCount = row.runCount;
  job.missedCount = row.missedCount;
  job.lastRunMs = row.lastRunMs;
  job.lastResult = row.lastResult;
  job.lastError = row.lastError;
  job.paused = row.paused;
  if (sameSchedule(row.triggerSpec, job.trigger.toSpec())) {
    try {
      job.trigger = triggerFromSpec(row.triggerSpec);
    } catch (error) {
      deps.logger.warn({ jobId: job.id, err: toError(error) }, 'stored trigger unreadable; using the registered one');
    }
    if (row.nextRunMs === null) {
      deps.logger.info({ jobId: job.id }, 'persistent job already finished in an earlier run; not scheduled again');
      deps.finish(job);
      return;
    }
    deps.setFire(job, row.nextRunMs);
  } else {
    deps.logger.info({ jobId: job.id }, 'persistent job schedule changed in code; next fire computed from now');
    if (fromNow === null) {
      deps.finish(job);
      return;
    }
    deps.setFire(job, fromNow);
  }
  deps.save(job, nowMs);
}
