import type { ServerEvent, ServerEventSource } from '../server/sse.js';

/**
 * One live stream of every lane's events, for SSE clients (and `kairos dev`'s printer). Lanes
 * `publish`; each subscriber gets its own bounded queue, so a subscriber that stops pulling loses its
 * oldest events instead of growing memory, and a slow one never delays the lanes (publish is
 * synchronous and O(subscribers)).
 */
export class LiveEventHub {
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  constructor(private readonly maxQueuedPerSubscriber = 1_000) {}

  /** Number of open subscriptions (SSE clients and printers). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(type: string, data: unknown): void {
    if (this.closed) return;
    const event: ServerEvent = { type, data };
    for (const subscriber of this.subscribers) subscriber.push(event, this.maxQueuedPerSubscriber);
  }

  /** Calls `listener` for every event until the returned function is called. */
  listen(listener: (event: ServerEvent) => void): () => void {
    const subscriber = new Subscriber(listener);
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The SSE source: an async iterable per client, ended by its abort signal or by `close()`. */
  readonly source: ServerEventSource = (signal) => {
    const subscriber = new Subscriber(null);
    this.subscribers.add(subscriber);
    const end = (): void => {
      this.subscribers.delete(subscriber);
      subscriber.end();
    };
    if (signal.aborted || this.closed) end();
    else signal.addEventListener('abort', end, { once: true });
    return subscriber.iterate();
  };

  /** Ends every subscription (server shutdown). */
  close(): void {
    this.closed = true;
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
  }
}

class Subscriber {
  private readonly queue: ServerEvent[] = [];
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(private readonly listener: ((event: ServerEvent) => void) | null) {}

  push(event: ServerEvent, max: number): void {
    if (this.ended) return;
    if (this.listener !== null) {
      this.listener(event);
      return;
    }
    this.queue.push(event);
    if (this.queue.length > max) this.queue.shift();
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *iterate(): AsyncGenerator<ServerEvent> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
  }
}
