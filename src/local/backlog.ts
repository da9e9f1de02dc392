import type { Trigger } from '../core/triggers/trigger.js';

/**
 * What to do with a job whose fire time has come — usually one fire, on time; after a pause, a
 * blocked event loop or a restart, a backlog. The rules are APScheduler 3's, made loud:
 *
 * - a fire later than `misfireGraceTimeMs` does not run; it is Missed, and reported (APScheduler
 *   logs a warning and emits EVENT_JOB_MISSED; we always emit `job_missed` with a count);
 * - with `coalesce`, the fires still within grace collapse into one run (the latest); the others
 *   are reported as missed with `coalesced: true` (APScheduler drops them silently);
 * - without `coalesce`, each fire within grace runs, up to MAX_CATCH_UP_RUNS (beyond that they are
 *   reported missed, so a long outage of a 100 ms job cannot queue a million runs).
 *
 * Pure: no clock, no timers. The next fire is always computed from the trigger, never from "now",
 * so interval schedules stay on their anchor.
 */
export interface MissedBatch {
  count: number;
  /** The first fire of the batch (trigger time). */
  firstMs: number;
  /** How late the first fire of the batch was. */
  firstLateMs: number;
  coalesced: boolean;
}

export interface DuePlan {
  /** Trigger fire times to run now, oldest first. The first may carry jitter (see `firstDueMs`). */
  runs: number[];
  missed: MissedBatch[];
  /** The first fire strictly after now, or null when the trigger is exhausted. */
  nextFireMs: number | null;
  /** The scan stopped early (a huge backlog); missed counts are then lower bounds. */
  capped: boolean;
}

/** A backlog longer than this is not walked fire by fire: the scan jumps ahead and says so. */
export const MAX_BACKLOG_SCAN = 100_000;
/** With coalesce off, at most this many catch-up runs start at once; the rest are reported missed. */
export const MAX_CATCH_UP_RUNS = 1_000;

/**
 * @param firstFireMs the job's pending fire (trigger time); `firstDueMs` is when it was due after jitter.
 * @param graceMs `null` = no limit.
 */
export function planDueFires(
  trigger: Trigger,
  firstFireMs: number,
  firstDueMs: number,
  nowMs: number,
  graceMs: number | null,
  coalesce: boolean,
): DuePlan {
  let beyond: MissedBatch | null = null;
  const inGrace: number[] = [];
  let capped = false;
  let jumped = 0;
  let scanned = 0;
  let fireMs: number | null = firstFireMs;
  let dueMs = firstDueMs;
  while (fireMs !== null && dueMs <= nowMs) {
    const lateMs = nowMs - dueMs;
    if (graceMs !== null && lateMs > graceMs) {
      if (beyond === null) beyond = { count: 1, firstMs: fireMs, firstLateMs: lateMs, coalesced: false };
      else beyond.count += 1;
    } else {
      inGrace.push(fireMs);
    }
    fireMs = trigger.next(fireMs);
    dueMs = fireMs ?? Number.POSITIVE_INFINITY;
    scanned += 1;
    if (scanned >= MAX_BACKLOG_SCAN && fireMs !== null && dueMs <= nowMs) {
      // Jump first to the grace window (its fires may still run), then past now.
      capped = true;
      scanned = 0;
      jumped += 1;
      const jumpAfterMs = jumped === 1 && graceMs !== null ? nowMs - graceMs - 1 : nowMs;
      if (jumpAfterMs > fireMs) {
        fireMs = trigger.next(jumpAfterMs);
        dueMs = fireMs ?? Number.POSITIVE_INFINITY;
      }
    }
  }

  const missed: MissedBatch[] = beyond === null ? [] : [beyond];
  let runs: number[];
  if (inGrace.length === 0) {
    runs = [];
  } else if (coalesce) {
    const last = inGrace[inGrace.length - 1] as number;
    runs = [last];
    if (inGrace.length > 1) {
      const first = inGrace[0] as number;
      missed.push({ count: inGrace.length - 1, firstMs: first, firstLateMs: nowMs - first, coalesced: true });
    }
  } else if (inGrace.length > MAX_CATCH_UP_RUNS) {
    runs = inGrace.slice(inGrace.length - MAX_CATCH_UP_RUNS);
    const first = inGrace[0] as number;
    missed.push({ count: inGrace.length - MAX_CATCH_UP_RUNS, firstMs: first, firstLateMs: nowMs - first, coalesced: false });
  } else {
    runs = inGrace;
  }
  return { runs, missed, nextFireMs: fireMs, capped };
}
