import type { Clock, TimerHandle } from '../../core/clock.js';
import { AbortedError } from '../../errors.js';
import type { EngineRepository } from '../store/repository.js';

const FIRST_RETRY_MS = 10;

/**
 * Waits for a store-backed slot of a tag (`tagConcurrency`), so a limit holds across runs and
 * workers. A free slot is taken in one write; when none is free the task re-checks with backoff
 * (10 ms doubling up to `maxWaitMs`), and at once when this process frees a slot of the tag — a slot
 * freed by another process is seen at the next re-check. Slots are leased like the run that holds
 * them (renewed by its heartbeat), so a dead worker's slots free themselves when its lease expires.
 */
export class TagSlots {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly repo: EngineRepository,
    private readonly clock: Clock,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Resolves with the release function once a slot is held; rejects with AbortedError if `signal` fires first. */
  async acquire(tag: string, limit: number, runId: string, stepKey: string, signal: AbortSignal): Promise<() => Promise<void>> {
    let waitMs = FIRST_RETRY_MS;
    for (;;) {
      if (signal.aborted) throw new AbortedError(`Stopped while waiting for a '${tag}' slot.`);
      const nowMs = this.clock.now();
      if (await this.repo.acquireTagSlot({ tag, limit, runId, stepKey, owner: this.owner, leaseUntilMs: nowMs + this.leaseMs, nowMs })) {
        return async () => {
          try {
            await this.repo.releaseTagSlot(tag, runId, stepKey);
          } finally {
            for (const wake of this.waiters.get(tag) ?? []) wake();
          }
        };
      }
      await this.waitFor(tag, waitMs, signal);
      waitMs = Math.min(waitMs * 2, this.maxWaitMs);
    }
  }

  private waitFor(tag: string, delayMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.waiters.get(tag);
      if (waiters === undefined) this.waiters.set(tag, (waiters = new Set()));
      const set = waiters;
      const done = (): void => {
        this.clock.clearTimer(handle);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(tag);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const handle: TimerHandle = this.clock.setTimer(done, delayMs);
      set.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
