/**
 * Waiting for "a job may have arrived" inside a long-poll fetch: a wake-up signal, a poll interval
 * as a safety net, the caller's deadline and its AbortSignal — whichever comes first.
 */
import { EventEmitter } from 'node:events';

/** Per-queue wake-ups within one process (enqueue on one provider wakes fetches on any other). */
export class WakeUps {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Any number of workers may wait on one queue.
    this.emitter.setMaxListeners(0);
  }

  wake(queue: string): void {
    this.emitter.emit(queue);
  }

  /** Resolves on a wake-up for `queue`, after `timeoutMs`, or when `signal` aborts. */
  wait(queue: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted === true || timeoutMs <= 0) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(queue, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.on(queue, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Releases every waiter (close()). */
  wakeAll(): void {
    for (const name of this.emitter.eventNames()) this.emitter.emit(name);
  }
}
