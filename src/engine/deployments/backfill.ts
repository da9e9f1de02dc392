import { ConfigError } from '../../errors.js';
import type { Deployments } from './deployments.js';
import { scheduleFireKey } from './firing.js';
import { firesBetween, scheduleTrigger } from './schedule.js';
import { FireState, OverlapPolicy, type Deployment } from './types.js';

export interface BackfillProgress {
  /** Fires dealt with so far, of `total`. */
  done: number;
  total: number;
  /** Runs started by this backfill. */
  started: number;
  /** Fires queued behind maxActiveRuns; the scheduler starts them in order as runs finish. */
  buffered: number;
  /** Fires already recorded (by the scheduler or an earlier backfill): not started again. */
  existing: number;
  /** Fires the launcher refused (unknown flow, invalid parameters). */
  failed: number;
}

export interface BackfillOptions {
  /** First instant of the range (inclusive), epoch ms. */
  fromMs: number;
  /** Last instant of the range (inclusive), epoch ms; must not be in the future. */
  toMs: number;
  /** Called after every fire. Default: none. */
  onProgress?: (progress: BackfillProgress) => void;
  /** Refuse ranges with more fires than this. Default 100 000. */
  maxFires?: number;
}

export type BackfillResult = BackfillProgress;

/**
 * Creates runs for every scheduled fire in a past range, like Airflow's backfill: idempotent (each
 * fire has the same key the scheduler would have used, so re-running a backfill, or backfilling a
 * range the scheduler already covered, starts nothing twice) and bounded by maxActiveRuns — fires
 * beyond it are queued (Buffered) and started in fire order as runs finish.
 */
export async function runBackfill(deployments: Deployments, deployment: Deployment, options: BackfillOptions): Promise<BackfillResult> {
  const { fromMs, toMs } = options;
  if (!Number.isFinite(fromMs)) throw new ConfigError('fromMs: must be epoch milliseconds.', { details: { field: 'fromMs', value: fromMs } });
  if (!Number.isFinite(toMs) || toMs < fromMs) {
    throw new ConfigError('toMs: must be epoch milliseconds, not before fromMs.', { details: { field: 'toMs', value: toMs } });
  }
  const nowMs = deployments.clock.now();
  if (toMs > nowMs) {
    throw new ConfigError('toMs: a backfill covers the past; future fires are the scheduler\'s. Use an end at or before now.', {
      details: { field: 'toMs', value: toMs, nowMs },
    });
  }
  if (deployment.schedule === null) {
    throw new ConfigError(`Deployment '${deployment.name}' has no schedule, so there are no fires to backfill.`, {
      details: { field: 'schedule', name: deployment.name },
    });
  }
  const maxFires = options.maxFires ?? 100_000;
  // The deployment's start/end bound the backfill too; the range may reach before its creation.
  const trigger = scheduleTrigger(deployment.schedule, deployment);
  const fires = firesBetween(trigger, fromMs, toMs, maxFires + 1);
  if (fires.length > maxFires) {
    throw new ConfigError(`The range holds more than ${maxFires} fires; backfill a shorter range or raise maxFires.`, {
      details: { field: 'maxFires', value: maxFires },
    });
  }
  // allow_all deployments run as many as maxActiveRuns allows; every other policy one at a time, queued.
  const overlap = deployment.overlap === OverlapPolicy.AllowAll ? OverlapPolicy.AllowAll : OverlapPolicy.BufferAll;
  const progress: BackfillProgress = { done: 0, total: fires.length, started: 0, buffered: 0, existing: 0, failed: 0 };
  for (const fireMs of fires) {
    const outcome = await deployments.processor.fire(deployment, {
      fireMs,
      origin: 'backfill',
      fireKey: scheduleFireKey(deployment.id, fireMs),
      overlap,
    });
    if (outcome.state === 'Duplicate') progress.existing += 1;
    else if (outcome.state === FireState.Started) progress.started += 1;
    else if (outcome.state === FireState.Buffered) progress.buffered += 1;
    else if (outcome.state === FireState.Failed) progress.failed += 1;
    progress.done += 1;
    options.onProgress?.({ ...progress });
  }
  return progress;
}
