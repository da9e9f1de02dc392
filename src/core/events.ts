/**
 * A typed event emitter whose listeners cannot break the emitter: a listener that throws (or returns
 * a rejected promise) is reported to `onListenerError` and the remaining listeners still run.
 */
export type Listener<T> = (payload: T) => unknown;

export class TypedEmitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  private readonly anyListeners = new Set<(name: keyof Events, payload: Events[keyof Events]) => unknown>();

  constructor(private readonly onListenerError: (error: unknown, event: keyof Events) => void = () => undefined) {}

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    return () => this.off(name, listener);
  }

  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (payload) => {
      off();
      return listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners.get(name)?.delete(listener);
  }

  /** Listens to every event; used by metrics, the UI stream and alerting. */
  onAny(listener: (name: keyof Events, payload: Events[keyof Events]) => unknown): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.listeners.get(name);
    if (set !== undefined) {
      for (const listener of [...set]) this.invoke(name, () => (listener as Listener<Events[K]>)(payload));
    }
    for (const listener of [...this.anyListeners]) this.invoke(name, () => listener(name, payload));
  }

  /**
   * Whether emitting `name` would reach anyone (a listener for it, or an `onAny` listener). Lets a
   * hot path skip building a payload nobody will read.
   */
  hasListeners(name: keyof Events): boolean {
    return this.anyListeners.size > 0 || (this.listeners.get(name)?.size ?? 0) > 0;
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  removeAllListeners(): void {
    this.listeners.clear();
    this.anyListeners.clear();
  }

  private invoke(name: keyof Events, call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) result.catch((error: unknown) => this.onListenerError(error, name));
    } catch (error) {
      this.onListenerError(error, name);
    }
  }
}
