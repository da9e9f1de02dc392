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
    return this.arm(queue, timeoutMs, signal).promise;
  }

  /**
   * Like `wait`, but armed now and cancellable: arm before looking for work, so a wake-up that
   * arrives while looking is not lost; cancel when the work was found.
   */
  arm(queue: string, timeoutMs: number, signal?: AbortSignal): { promise: Promise<void>; cancel: () => void } {
    let done: () => void = () => undefined;
    const promise = new Promise<void>((resolve) => {
      if (signal?.aborted === true || timeoutMs <= 0) {
        resolve();
        return;
      }
      done = () => {
        clearTimeout(timer);
        this.emitter.off(queue, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.on(queue, done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return { promise, cancel: () => done() };
  }

  /** Releases every waiter (close()). */
  wakeAll(): void {
    for (const name of this.emitter.eventNames()) this.emitter.emit(name);
  }
}
