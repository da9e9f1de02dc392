import { performance } from 'node:perf_hooks';

/**
 * Watches the event loop for blocks: a real interval timer that measures how late it wakes and
 * reports that lag on every tick; a lag above the threshold means something held the loop that long.
 * The period is half the threshold (10–100 ms), so a block of the threshold's length cannot hide.
 *
 * It reads the real clock on purpose (not the scheduler's injected one): a blocked loop is a
 * property of this process, not of scheduled time. The timer is unref'd so it never keeps a process
 * alive on its own.
 */
export class LoopProbe {
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastTickMs = 0;
  private readonly periodMs: number;

  constructor(
    thresholdMs: number,
    private readonly onTick: (lagMs: number) => void,
  ) {
    this.periodMs = Math.min(100, Math.max(10, Math.round(thresholdMs / 2)));
  }

  start(): void {
    if (this.timer !== null) return;
    this.lastTickMs = performance.now();
    this.timer = setInterval(() => this.tick(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const nowMs = performance.now();
    const lagMs = nowMs - this.lastTickMs - this.periodMs;
    this.lastTickMs = nowMs;
    this.onTick(lagMs);
  }
}
