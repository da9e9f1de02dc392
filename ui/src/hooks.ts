import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { LiveEvent, LiveStream } from './api/live';

export const LiveContext = createContext<LiveStream | null>(null);

export function useLive(): LiveStream | null {
  return useContext(LiveContext);
}

/** Calls `listener` for every live event while the component is mounted. */
export function useLiveEvents(listener: (event: LiveEvent) => void): void {
  const live = useLive();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => live?.subscribe((event) => ref.current(event)), [live]);
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Fetches again now. */
  reload: () => void;
}

export interface ResourceOptions {
  /** Refetch when a live event matches (throttled). `resync` events always match. */
  liveWhen?: (event: LiveEvent) => boolean;
  /** Refetch on this period as well, for data that changes without events (queue depth). */
  pollMs?: number;
}

const LIVE_REFETCH_MIN_MS = 300;

/**
 * Loads data with `fetcher`, refetching when `deps` change, when a matching live event arrives and
 * every `pollMs`. Keeps showing the previous data while a refetch runs, so pages do not flicker.
 */
export function useResource<T>(fetcher: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], options: ResourceOptions = {}): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const lastFetchMs = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    lastFetchMs.current = Date.now();
    setState((s) => ({ ...s, loading: true }));
    fetcherRef.current(abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => abort.abort();
  }, [...deps, generation]);

  // Reset shown data when the thing being looked at changes (not on refetches of the same thing).
  const depsKey = JSON.stringify(deps);
  const shownKey = useRef(depsKey);
  if (shownKey.current !== depsKey) {
    shownKey.current = depsKey;
    if (state.data !== undefined) setState({ data: undefined, error: null, loading: true });
  }

  const reload = (): void => setGeneration((g) => g + 1);
  const reloadRef = useRef(reload);
  reloadRef.current = reload;

  const liveWhen = options.liveWhen;
  useLiveEvents((event) => {
    if (liveWhen === undefined && event.type !== 'resync') return;
    if (event.type !== 'resync' && liveWhen !== undefined && !liveWhen(event)) return;
    if (pending.current !== null) return;
    // Coalesce bursts (a flow of 50 tasks sends 150 events) into a few refetches.
    const waitMs = Math.max(0, lastFetchMs.current + LIVE_REFETCH_MIN_MS - Date.now());
    pending.current = setTimeout(() => {
      pending.current = null;
      reloadRef.current();
    }, waitMs);
  });
  useEffect(() => () => {
    if (pending.current !== null) clearTimeout(pending.current);
  }, []);

  useEffect(() => {
    if (options.pollMs === undefined) return;
    const timer = setInterval(() => reloadRef.current(), options.pollMs);
    return () => clearInterval(timer);
  }, [options.pollMs]);

  return { ...state, reload };
}

/** Re-renders every `periodMs` (relative times, countdowns). */
export function useNow(periodMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}

/** Runs an action, tracking busy state and its error for a button. */
export function useAction(): { busy: boolean; error: unknown; message: string | null; run: (action: () => Promise<unknown>, done?: string) => void } {
  const [state, setState] = useState<{ busy: boolean; error: unknown; message: string | null }>({ busy: false, error: null, message: null });
  return {
    ...state,
    run: (action, done) => {
      setState({ busy: true, error: null, message: null });
      action().then(
        () => setState({ busy: false, error: null, message: done ?? null }),
        (error: unknown) => setState({ busy: false, error, message: null }),
      );
    },
  };
}
