import type { Clock, TimerHandle } from '../../../src/core/clock.js';

interface PendingTimer extends TimerHandle {
  atMs: number;
  seq: number;
  callback: () => void;
}

/** A clock tests move by hand: `advance(ms)` runs, in time order, every timer that falls due. */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<PendingTimer>();

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { atMs: this.current + Math.max(0, delayMs), seq: (this.seq += 1), callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as PendingTimer);
  }

  /** Moves time forward, running due timers at their own instants. */
  advance(ms: number): void {
    const targetMs = this.current + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.atMs <= targetMs).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers.delete(due);
      this.current = Math.max(this.current, due.atMs);
      due.callback();
    }
    this.current = targetMs;
  }

  set(ms: number): void {
    this.advance(ms - this.current);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}
