import { authHeaders } from './client';

/**
 * The live event stream (`GET /api/events/stream`, Server-Sent Events) for the whole page.
 *
 * Browsers' EventSource cannot send an Authorization header, so the stream is read with fetch and
 * parsed here. One connection serves every subscriber; it reconnects with backoff when the server
 * restarts. When the server dropped events for us (`dropped`), or after a reconnect, subscribers are
 * told to refetch, since they may have missed a change.
 */

export interface LiveEvent {
  type: string;
  data: unknown;
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

type EventListener = (event: LiveEvent) => void;
type StatusListener = (status: LiveStatus) => void;

const RESYNC: LiveEvent = { type: 'resync', data: null };

export class LiveStream {
  private readonly listeners = new Set<EventListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private abort: AbortController | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelayMs = 500;
  private connectedOnce = false;
  private lastEventId: string | null = null;
  status: LiveStatus = 'connecting';

  constructor(private readonly url = '/api/events/stream') {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (this.abort !== null) return;
    void this.connect();
  }

  /** Reconnects now (after a login, with the new token). */
  restart(): void {
    this.stop();
    this.retryDelayMs = 500;
    this.start();
  }

  stop(): void {
    this.abort?.abort();
    this.abort = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber must not starve the others.
      }
    }
  }

  private async connect(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    this.setStatus('connecting');
    try {
      // Resume where we stopped: the server replays what we missed from its ring, or sends `dropped`
      // (→ RESYNC) when it cannot.
      const resume: Record<string, string> = this.lastEventId === null ? {} : { 'last-event-id': this.lastEventId };
      const response = await fetch(this.url, { headers: { accept: 'text/event-stream', ...resume, ...authHeaders() }, signal: abort.signal, cache: 'no-store', credentials: 'omit' });
      if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
      this.setStatus('live');
      this.retryDelayMs = 500;
      // Anything may have changed while we were away, unless the server can replay it.
      if (this.connectedOnce && this.lastEventId === null) this.emit(RESYNC);
      this.connectedOnce = true;
      await this.read(response.body);
    } catch {
      // Fall through to the reconnect below (unless we were stopped on purpose).
    }
    if (abort.signal.aborted) return;
    this.setStatus('offline');
    this.abort = null;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.retryDelayMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 10_000);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // Frames end with a blank line; a partial frame stays in the buffer.
      let end = buffer.search(/\r?\n\r?\n/);
      while (end !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        this.handleFrame(frame);
        end = buffer.search(/\r?\n\r?\n/);
      }
    }
  }

  private handleFrame(frame: string): void {
    let type = 'message';
    const dataLines: string[] = [];
    for (const line of frame.split(/\r?\n/)) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'id') this.lastEventId = value;
      else if (field === 'data') dataLines.push(value);
    }
    if (dataLines.length === 0) return;
    let data: unknown = null;
    try {
      data = JSON.parse(dataLines.join('\n'));
    } catch {
      data = dataLines.join('\n');
    }
    this.emit(type === 'dropped' ? RESYNC : { type, data });
  }
}

/** A string field of an event's data (`runId`, `name`, `stepKey`…), or null. */
export function eventField(event: LiveEvent, field: string): string | null {
  const data = event.data;
  if (typeof data !== 'object' || data === null) return null;
  const value = (data as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : null;
}

/** Events about runs, steps and logs of flows and workflows. */
export function isRunEvent(event: LiveEvent): boolean {
  return eventField(event, 'runId') !== null || event.type.startsWith('run') || event.type.startsWith('step');
}
