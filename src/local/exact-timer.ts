import { performance } from 'node:perf_hooks';

/** setTimeout cannot wait longer than 2^31 − 1 ms; a farther target re-arms on the way. */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * The longest the event loop is held (slept) before a target. setTimeout(floor(remaining)) wakes at
 * most two milliseconds early (libuv's first tick is at most one ms away, and the floor drops less
 * than one more), so 2 is the least that never needs a second wake.
 */
export const EXACT_TIMER_MAX_HOLD_MS = 2;

/**
 * How long until `targetMs` on Date.now()'s clock, with the fraction of the current millisecond that
 * Date.now() cannot show. The fraction comes from performance.now() (timeOrigin + now() lines up with
 * Date.now()'s ticks to a few µs, measured); only the fraction is taken from it, so a wall-clock step
 * (NTP) after start can misplace a fire by under a millisecond, never by the size of the step.
 */
function remainingMs(targetMs: number): number {
  const nowMs = Date.now();
  const fractionMs = (((performance.timeOrigin + performance.now() - nowMs) % 1) + 1) % 1;
  return targetMs - nowMs - fractionMs;
}

/**
 * A one-shot timer on the real clock that calls back on the very millisecond it is set for, not up
 * to a millisecond after it.
 *
 * Why: Node's setTimeout counts whole milliseconds on libuv's loop clock, whose millisecond ticks are
 * out of phase with Date.now()'s. A timer set for "the fire's millisecond" therefore wakes anywhere
 * in that millisecond or the next — measured p50 0.7 ms late with no load at all. This timer wakes
 * through setTimeout in the millisecond or two before the target (the loop is free meanwhile) and
 * sleeps the last fraction with `Atomics.wait` — a real sleep: no CPU, unlike spinning on
 * setImmediate, which burned ~0.9 ms of CPU per wake when measured. The price is that the event loop
 * is held for that fraction: at most EXACT_TIMER_MAX_HOLD_MS per wake, about one ms on average. When
 * the target is under a millisecond away it goes through setImmediate first, so I/O that is ready
 * gets its turn between passes.
 */
export class ExactTimer {
  private timeout: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private targetMs = 0;
  private readonly sleepCell = new Int32Array(new SharedArrayBuffer(4));
  private readonly onWakeBound = (): void => this.onWake();

  /** @param callback called once Date.now() has reached the target. */
  constructor(private readonly callback: () => void) {}

  get pending(): boolean {
    return this.timeout !== null || this.immediate !== null;
  }

  /** Calls back once `Date.now() >= targetMs` (at once, on the next turn, when it already has). Replaces a pending target. */
  set(targetMs: number): void {
    this.clear();
    this.targetMs = targetMs;
    this.schedule();
  }

  clear(): void {
    if (this.timeout !== null) clearTimeout(this.timeout);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timeout = null;
    this.immediate = null;
  }

  private schedule(): void {
    const delayMs = Math.min(Math.floor(remainingMs(this.targetMs)), MAX_TIMER_MS);
    if (delayMs < 1) this.immediate = setImmediate(this.onWakeBound);
    else this.timeout = setTimeout(this.onWakeBound, delayMs);
  }

  private onWake(): void {
    this.timeout = null;
    this.immediate = null;
    const leftMs = remainingMs(this.targetMs);
    if (leftMs > EXACT_TIMER_MAX_HOLD_MS) {
      this.schedule();
      return;
    }
    if (leftMs > 0) Atomics.wait(this.sleepCell, 0, 0, leftMs);
    if (Date.now() < this.targetMs) {
      // A timed wait may return a few µs early, and Date.now() is the clock fires are checked on:
      // look again on the next turn rather than spin.
      this.immediate = setImmediate(this.onWakeBound);
      return;
    }
    this.callback();
  }
}
