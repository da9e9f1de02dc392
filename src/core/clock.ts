/**
 * The clock every scheduler reads. Injected, so that tests can drive time by hand and so that no
 * module reads `Date.now()` behind the caller's back.
 */
export interface Clock {
  /** Epoch milliseconds, like `Date.now()`. */
  now(): number;
  /** Calls `callback` after `delayMs`; returns a handle for `clearTimer`. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export interface TimerHandle {
  /** Lets the process exit while this timer is pending (Node's `unref`). */
  unref?(): void;
}

/** The real clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, Math.max(0, delayMs)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
