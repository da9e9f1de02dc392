import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../../../core/clock.js';
import type { Job } from '../../contract.js';

/** Options of {@link createCloudTasksReceiver}. */
export interface CloudTasksReceiverOptions {
  /**
   * A shared secret every task carries in the `X-Kairos-Token` header (set the same `receiverSecret`
   * on the provider); pushes without it get 401. Default none — then protect the endpoint another way
   * (Cloud Run / IAP with the provider's `serviceAccountEmail` OIDC token).
   */
  secret?: string;
  /** Largest push body accepted, in bytes. Default 1572864 (1.5 MiB: a 1 MiB payload plus the job). */
  maxBodyBytes?: number;
  clock?: Clock;
}

/** The outcome a settled push answers Cloud Tasks with. */
export type PushOutcome = 'ack' | 'retry' | 'dead';

/** One push from Cloud Tasks, held open until the worker settles it. */
export interface Push {
  job: Job;
  /** Attempts made before the task was created (carried in the body) + Cloud Tasks' retry count + 1. */
  attempt: number;
  token: string;
  untilMs: number;
}

interface Pending extends Push {
  response: ServerResponse;
  queue: string;
}

const TOKEN_HEADER = 'x-kairos-token';

/**
 * The HTTP end of the Cloud Tasks provider. Cloud Tasks pushes; Kairos workers pull. The receiver
 * turns each push (a POST whose body is the job) into a held request: `take()` hands it to the
 * provider's `fetch()`, and the response is written only when the worker settles it — 200 on ack or
 * dead letter (Cloud Tasks stops), 503 on retry or when the lease runs out (Cloud Tasks delivers the
 * task again under its queue's retry settings). So Cloud Tasks' own at-least-once machinery is the
 * lease: a worker that dies leaves the request unanswered until Cloud Tasks' dispatch deadline, and
 * the task is retried.
 *
 * Mount `handle` on any node:http server (or a framework route) at the provider's `targetUrl`.
 */
export class CloudTasksReceiver {
  private readonly secret: Buffer | null;
  private readonly maxBodyBytes: number;
  private readonly clock: Clock;
  private readonly waiting = new Map<string, Pending[]>();
  private readonly leased = new Map<string, Pending>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private next = 0;
  private closed = false;

  constructor(options: CloudTasksReceiverOptions = {}) {
    this.secret = options.secret === undefined ? null : Buffer.from(options.secret, 'utf8');
    this.maxBodyBytes = options.maxBodyBytes ?? 1_572_864;
    this.clock = options.clock ?? systemClock;
  }

  /** The node:http request handler. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const refuse = (status: number, message: string): void => {
      // Drain the unread body, or the keep-alive connection is left mid-request for the next push.
      request.resume();
      answer(response, status, message);
    };
    if (this.closed) return refuse(503, 'receiver closed');
    if (request.method !== 'POST') return refuse(405, 'POST only');
    if (!this.authorised(request)) return refuse(401, 'missing or wrong X-Kairos-Token');
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes && !refused) {
        refused = true;
        chunks.length = 0;
        // The rest of the body is read and dropped; the connection closes after the answer.
        response.setHeader('connection', 'close');
        answer(response, 413, `body over ${this.maxBodyBytes} bytes`);
      }
      if (!refused) chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      let job: Job;
      try {
        job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Job;
        if (typeof job !== 'object' || job === null || typeof job.id !== 'string' || typeof job.queue !== 'string') throw new Error('not a job');
      } catch {
        return answer(response, 400, 'the body is not a Kairos job');
      }
      const retryCount = Number(request.headers['x-cloudtasks-taskretrycount'] ?? '0');
      this.accept(job, Number.isFinite(retryCount) ? retryCount : 0, response);
    });
    request.on('error', () => undefined);
  };

  /** True after `close()`: pushes are answered 503. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Pushes waiting for a worker, per queue. */
  waitingCount(queue: string): number {
    return this.waiting.get(queue)?.length ?? 0;
  }

  /** Pushes handed to a worker and not yet settled, per queue. */
  leasedCount(queue: string): number {
    let n = 0;
    for (const p of this.leased.values()) if (p.queue === queue) n += 1;
    return n;
  }

  /**
   * Takes up to `max` waiting pushes of `queue`, leased for `leaseMs`; waits up to `waitMs` for the
   * first. Expired leases are answered 503 first, so Cloud Tasks retries them.
   */
  async take(queue: string, max: number, leaseMs: number, waitMs: number, signal?: AbortSignal): Promise<Push[]> {
    const deadline = this.clock.now() + Math.max(0, waitMs);
    for (;;) {
      this.expire();
      if (this.closed || max <= 0 || signal?.aborted === true) return [];
      const list = this.waiting.get(queue) ?? [];
      const taken = list.splice(0, max);
      if (taken.length > 0) {
        const untilMs = this.clock.now() + leaseMs;
        return taken.map((p) => {
          p.untilMs = untilMs;
          this.leased.set(p.token, p);
          return { job: p.job, attempt: p.attempt, token: p.token, untilMs };
        });
      }
      const remainingMs = deadline - this.clock.now();
      if (remainingMs <= 0) return [];
      const nextExpiryMs = Math.min(...[...this.leased.values()].map((p) => p.untilMs - this.clock.now()));
      await this.sleep(queue, Math.max(1, Math.min(remainingMs, nextExpiryMs)), signal);
    }
  }

  /** Answers a leased push. Returns false when its lease was already lost (answered 503, or Cloud Tasks hung up). */
  settle(token: string, outcome: PushOutcome, error?: string): boolean {
    const pending = this.leased.get(token);
    if (pending === undefined) return false;
    this.leased.delete(token);
    if (outcome === 'retry') answer(pending.response, 503, `retry: ${error ?? 'failed'}`);
    else answer(pending.response, 200, outcome === 'ack' ? 'done' : `dead-lettered: ${error ?? ''}`);
    return true;
  }

  /** Keeps a lease `leaseMs` more. False when it was lost. Cloud Tasks' dispatch deadline still bounds it. */
  extend(token: string, leaseMs: number): boolean {
    const pending = this.leased.get(token);
    if (pending === undefined) return false;
    pending.untilMs = this.clock.now() + leaseMs;
    return true;
  }

  /** Answers every open push 503 (Cloud Tasks retries them) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const list of this.waiting.values()) for (const p of list) answer(p.response, 503, 'receiver closed');
    for (const p of this.leased.values()) answer(p.response, 503, 'receiver closed');
    this.waiting.clear();
    this.leased.clear();
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }

  private authorised(request: IncomingMessage): boolean {
    if (this.secret === null) return true;
    const given = request.headers[TOKEN_HEADER];
    if (typeof given !== 'string') return false;
    const buffer = Buffer.from(given, 'utf8');
    return buffer.length === this.secret.length && timingSafeEqual(buffer, this.secret);
  }

  private accept(job: Job, retryCount: number, response: ServerResponse): void {
    const base = Number.isFinite(job.attempt) ? job.attempt : 0;
    this.next += 1;
    const pending: Pending = { job, attempt: base + retryCount + 1, token: `ct-${this.next}`, untilMs: 0, response, queue: job.queue };
    // Cloud Tasks hung up (its dispatch deadline passed): the lease is lost, the task will be retried.
    response.once('close', () => {
      if (response.writableEnded) return;
      this.leased.delete(pending.token);
      const list = this.waiting.get(pending.queue);
      const index = list?.indexOf(pending) ?? -1;
      if (list !== undefined && index >= 0) list.splice(index, 1);
    });
    const list = this.waiting.get(job.queue) ?? [];
    list.push(pending);
    this.waiting.set(job.queue, list);
    for (const wake of [...(this.waiters.get(job.queue) ?? [])]) wake();
  }

  private expire(): void {
    const now = this.clock.now();
    for (const [token, p] of this.leased) {
      if (p.untilMs > now) continue;
      this.leased.delete(token);
      answer(p.response, 503, 'lease expired');
    }
  }

  private sleep(queue: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(queue) ?? new Set<() => void>();
      this.waiters.set(queue, set);
      const done = (): void => {
        set.delete(done);
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function answer(response: ServerResponse, status: number, message: string): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(message);
}

/** Creates the HTTP receiver the Cloud Tasks provider pulls from. */
export function createCloudTasksReceiver(options: CloudTasksReceiverOptions = {}): CloudTasksReceiver {
  return new CloudTasksReceiver(options);
}
