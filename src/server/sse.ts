import type { ServerResponse } from 'node:http';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { safeJsonStringify } from './json.js';

/**
 * One Server-Sent Events connection.
 *
 * Events are pulled from the source as fast as it yields them into a bounded buffer, and written to
 * the socket as fast as the socket drains. A client that reads slower than events arrive does not
 * grow the server's memory: past `maxBufferedEvents` the oldest buffered event is dropped and
 * counted, and the client is told with a `dropped` event (`{ count, total }`) before the next event
 * it gets, so it knows to refetch. A comment line every `heartbeatMs` keeps proxies from closing an
 * idle stream.
 */

/** An event for the live stream. `type` becomes the SSE `event:` field. */
export interface ServerEvent {
  type: string;
  data: unknown;
  /**
   * The source's own sequence number, sent as the SSE `id:` so that a reconnecting client can resume
   * with `Last-Event-ID` (one line of `[A-Za-z0-9_.-]`). Without it the connection numbers its frames
   * itself (no resume).
   */
  id?: string;
}

/** How a client asked to (re)start its stream. */
export interface StreamRequest {
  /** The `Last-Event-ID` the client sent (header or `?lastEventId=`), or null on a first connect. */
  lastEventId: string | null;
}

/** Yields events until `signal` aborts (client gone or server closing). */
export type ServerEventSource = (signal: AbortSignal, request?: StreamRequest) => AsyncIterable<ServerEvent>;

/**
 * `?types=` entries: an exact type (`run.state`) or a prefix ending in `.*` (`queue.*`). Returns a
 * predicate; an empty list lets everything through.
 */
export function eventTypeFilter(patterns: readonly string[]): (type: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('.*')));
  const prefixes = patterns.filter((p) => p.endsWith('.*')).map((p) => p.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((prefix) => type.startsWith(prefix));
}

export interface SseOptions {
  /** Default 15000. */
  heartbeatMs: number;
  /** Default 1000. */
  maxBufferedEvents: number;
  /** Default systemClock. */
  clock?: Clock;
  /** Only events whose type passes are sent (`?types=`); notices (`dropped`) always pass. Default all. */
  accept?: (type: string) => boolean;
  /** Passed to the source (resume with Last-Event-ID). Default a first connect. */
  request?: StreamRequest;
  /** Applied to every frame before it is buffered (secret redaction). Default identity. */
  redact?: (text: string) => string;
  /** Called with the number of events dropped for this slow client, each time some are. */
  onDropped?: (count: number) => void;
}

/** SSE `event:` names are one line; anything else in a type becomes `_`. */
function eventName(type: string): string {
  return type.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100) || 'message';
}

export class SseConnection {
  private readonly buffer: string[] = [];
  private readonly abort = new AbortController();
  private readonly clock: Clock;
  private heartbeat: TimerHandle | null = null;
  private waitingForDrain = false;
  private nextId = 1;
  private droppedPending = 0;
  private droppedTotal = 0;
  private ended = false;
  /** Resolves when the connection has ended, for whatever reason. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly response: ServerResponse,
    private readonly source: ServerEventSource,
    private readonly options: SseOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Writes the headers and starts pumping; call once. */
  start(headers: Record<string, string>): void {
    this.response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    this.response.write(': kairos event stream\n\n');
    this.response.on('close', () => this.end());
    this.response.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
    this.scheduleHeartbeat();
    void this.pump();
  }

  /** Ends the stream (server closing or client gone); idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    if (this.heartbeat !== null) this.clock.clearTimer(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
    this.resolveDone();
  }

  private async pump(): Promise<void> {
    try {
      const accept = this.options.accept ?? (() => true);
      for await (const event of this.source(this.abort.signal, this.options.request ?? { lastEventId: null })) {
        if (this.ended) break;
        if (event.type !== 'dropped' && !accept(event.type)) continue;
        // A source-numbered event carries its id (resumable); a numberless notice carries none, so the
        // client's Last-Event-ID stays on the last real event.
        const id = event.id !== undefined ? `id: ${event.id.replace(/[^A-Za-z0-9_.-]/g, '_')}\n` : event.type === 'dropped' ? '' : `id: ${this.nextId++}\n`;
        const frame = `${id}event: ${eventName(event.type)}\ndata: ${safeJsonStringify(event.data)}\n\n`;
        this.enqueue(this.options.redact === undefined ? frame : this.options.redact(frame));
      }
    } catch {
      // A failing source ends this stream; the client reconnects (EventSource does so by itself).
    }
    // The source is exhausted: send what is buffered, then close.
    this.closeWhenFlushed();
  }

  private closeAfterFlush = false;

  private closeWhenFlushed(): void {
    this.closeAfterFlush = true;
    if (this.buffer.length === 0 && !this.waitingForDrain) this.end();
  }

  private enqueue(frame: string): void {
    this.buffer.push(frame);
    if (this.buffer.length > this.options.maxBufferedEvents) {
      this.buffer.shift();
      this.droppedPending += 1;
      this.droppedTotal += 1;
      this.options.onDropped?.(1);
    }
    this.flush();
  }

  private flush(): void {
    while (!this.ended && !this.waitingForDrain && this.buffer.length > 0) {
      if (this.droppedPending > 0) {
        const notice = `event: dropped\ndata: ${JSON.stringify({ count: this.droppedPending, total: this.droppedTotal })}\n\n`;
        this.droppedPending = 0;
        if (!this.write(notice)) return;
      }
      const frame = this.buffer.shift();
      if (frame !== undefined && !this.write(frame)) return;
    }
    if (this.closeAfterFlush && this.buffer.length === 0 && !this.waitingForDrain) this.end();
  }

  /** Returns false when the socket wants us to wait for 'drain'. */
  private write(frame: string): boolean {
    const ok = this.response.write(frame);
    if (!ok) this.waitingForDrain = true;
    return ok;
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.clock.setTimer(() => {
      if (this.ended) return;
      // Skipped while the socket is backed up: the pending data keeps the connection busy anyway.
      if (!this.waitingForDrain) this.response.write(': heartbeat\n\n');
      this.scheduleHeartbeat();
    }, this.options.heartbeatMs);
    this.heartbeat.unref?.();
  }
}
