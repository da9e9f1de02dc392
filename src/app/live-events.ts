import type { ServerEvent, ServerEventSource, StreamRequest } from '../server/sse.js';

/** Events kept for clients that reconnect with `Last-Event-ID`. */
export const DEFAULT_REPLAY_EVENTS = 1_000;

/**
 * One live stream of every lane's events, for SSE clients (and `kairos dev`'s printer). Lanes
 * `publish`; each subscriber gets its own bounded queue, so a subscriber that stops pulling loses its
 * oldest events instead of growing memory, and a slow one never delays the lanes (publish is
 * synchronous and O(subscribers)).
 *
 * Every event gets the next number of this hub (its SSE `id`), and the last `replayEvents` are kept
 * in a ring: a client that reconnects with `Last-Event-ID: n` first gets the kept events after n. When
 * n is older than the ring (or from another process — ids restart with the process), the client gets a
 * `dropped` notice first, meaning "you missed some: refetch", then the live events.
 */
export class LiveEventHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly ring: Array<ServerEvent & { seq: number }> = [];
  private ringStart = 0;
  private lastId = 0;
  private closed = false;
  // Ids are `<epoch>-<n>`: an id from before a restart (or from another server) is recognised as foreign
  // instead of being mistaken for a recent one of this process.
  private readonly epoch = `${Date.now().toString(36)}${Math.floor(Math.random() * 1_296).toString(36)}`;

  /**
   * @param maxQueuedPerSubscriber events queued per subscriber before its oldest are dropped. Default 1000.
   * @param replayEvents events kept for `Last-Event-ID` resume. Default 1000.
   */
  constructor(
    private readonly maxQueuedPerSubscriber = 1_000,
    private readonly replayEvents = DEFAULT_REPLAY_EVENTS,
  ) {}

  /** Number of open subscriptions (SSE clients and printers). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** The SSE id of the last event published (`<epoch>-0` before any). */
  get lastEventId(): string {
    return this.idOf(this.lastId);
  }

  private idOf(n: number): string {
    return `${this.epoch}-${n}`;
  }

  publish(type: string, data: unknown): void {
    if (this.closed) return;
    this.lastId += 1;
    const event: ServerEvent & { seq: number } = { type, data, id: this.idOf(this.lastId), seq: this.lastId };
    this.ring.push(event);
    // Shifting in chunks keeps publish O(1) amortised instead of O(ring) per event.
    if (this.ring.length - this.ringStart > this.replayEvents) this.ringStart += 1;
    if (this.ringStart >= 1_024) {
      this.ring.splice(0, this.ringStart);
      this.ringStart = 0;
    }
    for (const subscriber of this.subscribers) subscriber.push(event, this.maxQueuedPerSubscriber);
  }

  /** Calls `listener` for every event until the returned function is called. */
  listen(listener: (event: ServerEvent) => void): () => void {
    const subscriber = new Subscriber(listener);
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The SSE source: an async iterable per client, ended by its abort signal or by `close()`. */
  readonly source: ServerEventSource = (signal, request?: StreamRequest) => {
    const subscriber = new Subscriber(null);
    for (const event of this.missedSince(request?.lastEventId ?? null)) subscriber.push(event, Number.POSITIVE_INFINITY);
    this.subscribers.add(subscriber);
    const end = (): void => {
      this.subscribers.delete(subscriber);
      subscriber.end();
    };
    if (signal.aborted || this.closed) end();
    else signal.addEventListener('abort', end, { once: true });
    return subscriber.iterate();
  };

  /** What a client resuming after `lastEventId` missed: kept events, led by a `dropped` notice if some are gone. */
  private missedSince(lastEventId: string | null): ServerEvent[] {
    if (lastEventId === null) return [];
    const match = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId);
    const last = match !== null && match[1] === this.epoch ? Number(match[2]) : Number.NaN;
    const kept = this.ring.slice(this.ringStart);
    const oldestKept = kept[0]?.seq ?? this.lastId + 1;
    if (!Number.isFinite(last) || last > this.lastId) {
      // Not an id of this hub (another process, or a restart): the client cannot know what it missed.
      return [{ type: 'dropped', data: { count: null, total: null, reason: 'unknown Last-Event-ID (server restarted?): refetch' } }];
    }
    const missed = kept.filter((event) => event.seq > last);
    const lost = Math.max(0, oldestKept - last - 1);
    return lost > 0 ? [{ type: 'dropped', data: { count: lost, total: lost, reason: 'older than the replay buffer: refetch' } }, ...missed] : missed;
  }

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
