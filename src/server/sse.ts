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
}

/** Yields events until `signal` aborts (client gone or server closing). */
export type ServerEventSource = (signal: AbortSignal) => AsyncIterable<ServerEvent>;

export interface SseOptions {
  /** Default 15000. */
  heartbeatMs: number;
  /** Default 1000. */
  maxBufferedEvents: number;
  /** Default systemClock. */
  clock?: Clock;
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
      for await (const event of this.source(this.abort.signal)) {
        if (this.ended) break;
        const frame = `event: ${eventName(event.type)}\ndata: ${safeJsonStringify(event.data)}\n\n`;
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

  /** Writes with an `id:` line; returns false when the socket wants us to wait for 'drain'. */
  private write(frame: string): boolean {
    const ok = this.response.write(`id: ${this.nextId++}\n${frame}`);
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
