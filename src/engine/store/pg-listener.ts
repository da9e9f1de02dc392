import pg from 'pg';
import type { Logger } from '../../core/logger.js';

/** A run that reached a terminal state, as announced by the process that finished or cancelled it. */
export interface FinishedNotice {
  runId: string;
  deploymentId: string | null;
  state: string;
  /** The workerId of the engine that made the change (so it can ignore its own notices). */
  origin: string;
}

export interface NotificationHandlers {
  /** A run became runnable somewhere (created, woken, handed over, released), or the listener just reconnected. */
  onWake(): void;
  onRunFinished(notice: FinishedNotice): void;
}

export interface PgListenerOptions {
  /** First reconnect delay after the connection drops. Default 100. */
  minBackoffMs?: number;
  /** Reconnect delays double up to this. Default 5000. */
  maxBackoffMs?: number;
}

/** NOTIFY payload prefix for run-finished notices; an empty payload is a plain wake-up. */
export const FINISHED_PREFIX = 'f:';

/**
 * LISTEN on the engine's channel over a dedicated connection (not a pool slot, so a busy pool never
 * delays notices and a dropped listener never poisons the pool), re-established with exponential
 * backoff when the connection drops (server restart, pg_terminate_backend, a network cut). Notices
 * sent while it was down are lost — that is NOTIFY's contract — so every reconnect calls `onWake()`
 * once: idle workers re-check the store at once instead of waiting for their poll. Run-finished
 * notices missed in the gap are covered by the deployments leader's poll (`pollMs`).
 */
export class PgListener {
  /** Times a LISTEN connection was established (1 after start; +1 per reconnect). */
  connects = 0;
  /** Wake-up notices received (reconnect wake-ups not counted). */
  wakeNotices = 0;
  /** The server process id of the current LISTEN connection, or null while disconnected. */
  backendPid: number | null = null;
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly connectedWaiters = new Set<() => void>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly handlers: NotificationHandlers,
    private readonly logger: Logger,
    options: PgListenerOptions = {},
  ) {
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.backoffMs = this.minBackoffMs;
  }

  /** Connects and LISTENs; rejects if the first connection fails (the caller decides whether that is fatal). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Resolves once a LISTEN connection is up (at once if it is). For tests and health checks. */
  connected(): Promise<void> {
    if (this.backendPid !== null) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.add(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.backendPid = null;
    if (client !== undefined) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.pool.options });
    // Errors arrive here and as 'end'; reconnecting is driven by 'end' alone, once per client.
    client.on('error', (error) => this.logger.warn({ err: error, channel: this.channel }, 'engine LISTEN connection failed; reconnecting'));
    client.on('notification', (message) => this.dispatch(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      client.once('end', () => this.lost(client));
      // A listener alone must never keep a process alive (a CLI command that only reads, a test that
      // forgot stop()); the worker loop's own timers keep a worker process running.
      (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      this.client = client;
      this.backendPid = rows[0]?.pid ?? null;
      this.connects += 1;
      this.backoffMs = this.minBackoffMs;
      for (const resolve of this.connectedWaiters) resolve();
      this.connectedWaiters.clear();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.backendPid = null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().then(
        () => {
          if (!this.closed) this.handlers.onWake();
        },
        (error: unknown) => {
          this.logger.warn({ err: error, channel: this.channel, retryInMs: this.backoffMs }, 'engine LISTEN reconnect failed; retrying');
          this.scheduleReconnect();
        },
      );
    }, delayMs);
    this.retryTimer.unref();
  }

  private dispatch(message: pg.Notification): void {
    if (message.channel !== this.channel) return;
    const payload = message.payload ?? '';
    if (!payload.startsWith(FINISHED_PREFIX)) {
      this.wakeNotices += 1;
      this.handlers.onWake();
      return;
    }
    try {
      const raw = JSON.parse(payload.slice(FINISHED_PREFIX.length)) as { r: string; d: string | null; s: string; o: string };
      this.handlers.onRunFinished({ runId: raw.r, deploymentId: raw.d, state: raw.s, origin: raw.o });
    } catch (error) {
      this.logger.warn({ err: error, payload }, 'ignoring an unreadable run-finished notice');
    }
  }
}
