import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface FakeTimer extends TimerHandle {
  dueMs: number;
  seq: number;
  callback: () => void;
  cleared: boolean;
}

/** Lets every pending promise reaction run: a macrotask turn flushes the whole microtask queue. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A Clock driven by hand. `await clock.advance(ms)` moves time forward, running each due timer in
 * time order (ties in the order they were set) with `now()` at that timer's instant, and flushing
 * microtasks after each one — so async jobs get to run their continuations between timers, as they
 * would in real time.
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: FakeTimer = { dueMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, callback, cleared: false };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    const timer = handle as FakeTimer;
    timer.cleared = true;
    this.timers = this.timers.filter((t) => t !== timer);
  }

  /** Timers still waiting (a stopped scheduler must leave none). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, running due timers in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.nowMs + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.dueMs > targetMs) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.callback();
      await flushMicrotasks();
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
    await flushMicrotasks();
  }

  /** Jumps time without running timers, like a process that was asleep (or a blocked loop). */
  jump(ms: number): void {
    this.nowMs += ms;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const timer of this.timers) {
      if (best === undefined || timer.dueMs < best.dueMs || (timer.dueMs === best.dueMs && timer.seq < best.seq)) best = timer;
    }
    return best;
  }
}
