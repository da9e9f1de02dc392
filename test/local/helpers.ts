import { createLocalScheduler, type LocalScheduler } from '../../src/local/scheduler.js';
import type { LocalSchedulerEvents, LocalSchedulerOptions } from '../../src/local/types.js';
import { FakeClock } from '../support/fake-clock.js';

export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** A scheduler on a fake clock, with the loop probe off (it reads real time) unless asked for. */
export function fakeScheduler(options: LocalSchedulerOptions = {}): { clock: FakeClock; scheduler: LocalScheduler } {
  const clock = new FakeClock(T0);
  const scheduler = createLocalScheduler({ clock, eventLoopBlockMs: null, ...options });
  return { clock, scheduler };
}

/** Records every event of the given names, in order. */
export function record<K extends keyof LocalSchedulerEvents>(scheduler: LocalScheduler, ...names: K[]): { name: K; payload: LocalSchedulerEvents[K] }[] {
  const seen: { name: K; payload: LocalSchedulerEvents[K] }[] = [];
  for (const name of names) scheduler.events.on(name, (payload) => seen.push({ name, payload }));
  return seen;
}

/** A promise with its resolve function outside, to hold a job open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
