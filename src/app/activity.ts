import type { Clock } from '../core/clock.js';

/**
 * Rolling per-lane counts for /api/overview, kept in memory: one bucket per minute for 24 hours, per
 * lane and outcome (a run state, or `late` / `missed` / `misfit`). The local lane has no run history
 * in the store, and queue jobs leave none once acked, so this is where "what happened in the last
 * hour" comes from for them — for what this process saw. Memory is bounded: 1440 buckets × the
 * outcomes actually seen.
 */
const MINUTE_MS = 60_000;
const BUCKETS = 24 * 60;

export class LaneActivity {
  // lane → outcome → ring of per-minute counts, with the minute each slot holds.
  private readonly rings = new Map<string, Map<string, { minutes: Float64Array; counts: Uint32Array }>>();

  constructor(private readonly clock: Clock) {}

  record(lane: string, outcome: string, count = 1): void {
    const minute = Math.floor(this.clock.now() / MINUTE_MS);
    let byOutcome = this.rings.get(lane);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      this.rings.set(lane, byOutcome);
    }
    let ring = byOutcome.get(outcome);
    if (ring === undefined) {
      ring = { minutes: new Float64Array(BUCKETS).fill(-1), counts: new Uint32Array(BUCKETS) };
      byOutcome.set(outcome, ring);
    }
    const slot = minute % BUCKETS;
    if (ring.minutes[slot] !== minute) {
      ring.minutes[slot] = minute;
      ring.counts[slot] = 0;
    }
    ring.counts[slot] = (ring.counts[slot] ?? 0) + count;
  }

  /** Counts per outcome of `lane` within the last `windowMs` (whole minutes). */
  counts(lane: string, windowMs: number): Record<string, number> {
    const nowMinute = Math.floor(this.clock.now() / MINUTE_MS);
    const oldest = nowMinute - Math.ceil(windowMs / MINUTE_MS) + 1;
    const result: Record<string, number> = {};
    for (const [outcome, ring] of this.rings.get(lane) ?? []) {
      let sum = 0;
      for (let i = 0; i < BUCKETS; i += 1) {
        const minute = ring.minutes[i] ?? -1;
        if (minute >= oldest && minute <= nowMinute) sum += ring.counts[i] ?? 0;
      }
      if (sum > 0) result[outcome] = sum;
    }
    return result;
  }
}
