/**
 * Parks a long-polling fetch until one of: a waker in `waiters` is called (a delivery arrived, the
 * channel was lost), `timeoutMs` passes (the fetch deadline or the next lease to reclaim), or
 * `signal` aborts (shutdown). Every path removes what it registered.
 */
export function waitForWake(waiters: Set<() => void>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = (): void => {
      waiters.delete(wake);
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, Math.max(1, timeoutMs));
    waiters.add(wake);
    signal?.addEventListener('abort', wake, { once: true });
  });
}
