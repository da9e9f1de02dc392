import { performance } from 'node:perf_hooks';

/** setTimeout cannot wait longer than 2^31 − 1 ms; a farther target re-arms on the way. */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * The longest the event loop is held (slept) before a target. setTimeout(floor(remaining)) wakes at
 * most two milliseconds early (libuv's first tick is at most one ms away, and the floor drops less
 * than one more), so 2 is the least that never needs a second wake.
 */
export const EXACT_TIMER_MAX_HOLD_MS = 2;

/** Wall-clock epoch ms with a fraction (aligned with Date.now()'s millisecond ticks to a few µs). */
function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
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
    const delayMs = Math.min(Math.floor(this.targetMs - wallNowMs()), MAX_TIMER_MS);
    if (delayMs < 1) this.immediate = setImmediate(this.onWakeBound);
    else this.timeout = setTimeout(this.onWakeBound, delayMs);
  }

  private onWake(): void {
    this.timeout = null;
    this.immediate = null;
    const remainingMs = this.targetMs - wallNowMs();
    if (remainingMs > EXACT_TIMER_MAX_HOLD_MS) {
      this.schedule();
      return;
    }
    if (remainingMs > 0) Atomics.wait(this.sleepCell, 0, 0, remainingMs);
    // A timed wait may return a few µs early; Date.now() is the clock the scheduler reads.
    while (Date.now() < this.targetMs) {
      // the last microseconds
    }
    this.callback();
  }
}
