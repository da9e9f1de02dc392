import { randomUUID } from 'node:crypto';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { systemClock, type Clock } from '../../core/clock.js';
import { ConfigError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { EnqueueResult, Job, Lease, NewJob, ProviderCapabilities, QueueProvider, QueueStats } from '../contract.js';
import { DEFAULT_LEASE_MS } from '../contract.js';
import { createBrokerLedger, type BrokerLedger } from '../ledger/index.js';
import { closedError, connectWithRetries, redactAddress, type ConnectRetryOptions } from './broker/connect.js';
import { createLedgerDeadLetters } from './broker/dead-letters.js';
import { DUE_TOLERANCE_MS, dueJobs } from './broker/jobs.js';
import { parseAckSubject, PullRequests } from './nats/pull.js';
import { sharedAttempt } from './broker/shared-attempt.js';

/** Options of {@link createNatsProvider}. */
export interface NatsProviderOptions extends ConnectRetryOptions {
  /** Server address(es), e.g. `nats://127.0.0.1:4222`. Default `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** Prefix of stream names (`<prefix>_<queue>`) and subjects (`<prefix>.q.<queue>`). Default `kairos`. */
  prefix?: string;
  /** Where dead letters and dedup keys are recorded: a ledger, or the Kairos store to build one on. Required. */
  ledger?: BrokerLedger;
  store?: Store;
  /** JetStream duplicate window: a job id enqueued twice within it makes one message. Default 120000 (2 min). */
  duplicateWindowMs?: number;
  /** Initial consumer ack wait (the lease) before any fetch names one. Default 30000. */
  leaseMs?: number;
  /**
   * Messages pulled ahead of the worker and kept in the process, per queue, so a worker whose slot
   * frees up does not wait a round trip for its next job. They are on their ack wait (lease) from the
   * moment they arrive; on close they are handed back (NAK). Default 32.
   */
  prefetch?: number;
  /** Most unacknowledged messages the consumer hands out at once. Default 10000. */
  maxAckPending?: number;
  /** Stream storage: `file` (durable, default) or `memory`. */
  storage?: 'file' | 'memory';
  /** Extra nats.js connection options (user, pass, token, tls…). Default none. */
  connection?: Record<string, unknown>;
  clock?: Clock;
}

const CAPABILITIES: ProviderCapabilities = {
  // NATS 2.9–2.11 cannot hold a first delivery (message scheduling arrived in 2.12): Kairos holds delayed jobs.
  nativeDelay: false,
  priority: false,
  nativeDedup: false,
  inspect: false,
  ordering: 'fifo',
};

const CONSUMER = 'kairos';
const HDR_ATTEMPT = 'Kairos-Attempt';
const HDR_LAST_ERROR = 'Kairos-Last-Error';
/** Clock skew tolerated before a future `runAtMs` counts as a delay this provider cannot hold. */

/**
 * A queue provider on NATS JetStream: one work-queue stream per queue (a message is removed when
 * acked), one durable pull consumer with explicit acks. The consumer's ack wait is the lease: a job
 * not acked within it is redelivered (the reclaim), `+WPI` (working) restarts it (extendLease), and
 * the delivery count in the ack subject is the attempt. JetStream is transport: dead letters and
 * dedup keys live in the Kairos store (the broker ledger).
 */
export function createNatsProvider(options: NatsProviderOptions = {}): QueueProvider {
  const servers = options.servers ?? 'nats://127.0.0.1:4222';
  const serverList = Array.isArray(servers) ? servers : [servers];
  const displayAddress = serverList.map(redactAddress).join(',');
  const prefix = options.prefix ?? 'kairos';
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new ConfigError(`NATS prefix '${prefix}' may only use letters, digits, '_' and '-'.`, { details: { field: 'prefix', value: prefix } });
  }
  const ledger = options.ledger ?? (options.store !== undefined ? createBrokerLedger(options.store) : undefined);
  if (ledger === undefined) {
    throw new ConfigError('The NATS provider needs `store` (or `ledger`) to record dead letters and dedup keys.', {
      details: { field: 'store' },
    });
  }
  const clock = options.clock ?? systemClock;
  const duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
  let ackWaitMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const prefetch = Math.max(1, options.prefetch ?? 32);
  /** Pulled ahead, not yet handed to a worker, per queue (see `prefetch`). */
  const buffers = new Map<string, { msg: Msg; receivedAtMs: number }[]>();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  let jsm: JetStreamManager | null = null;
  let inbox: PullRequests | null = null;
  let closed = false;
  const ensured = new Map<string, Promise<void>>();
  /** Per queue: the consumer's ack wait now, and the latest delivery count seen per stream sequence (to tell a lost lease). */
  const ackWaitByQueue = new Map<string, number>();
  const latestDelivery = new Map<string, number>();

  const streamOf = (queue: string): string => `${prefix}_${queue.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const subjectOf = (queue: string): string => `${prefix}.q.${queue.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  function live(): { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager; inbox: PullRequests } {
    if (closed || nc === null || js === null || jsm === null || inbox === null) throw closedError('nats');
    return { nc, js, jsm, inbox };
  }

  function ensure(queue: string): Promise<void> {
    return sharedAttempt(ensured, queue, () => createQueue(queue));
  }

  async function createQueue(queue: string): Promise<void> {
    const { jsm: manager } = live();
    const name = streamOf(queue);
    const config = {
      name,
      subjects: [subjectOf(queue)],
      retention: RetentionPolicy.Workqueue,
      storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
      duplicate_window: duplicateWindowMs * 1_000_000,
    };
    try {
      await manager.streams.info(name);
    } catch {
      await manager.streams.add(config);
    }
    try {
      const info = await manager.consumers.info(name, CONSUMER);
      ackWaitByQueue.set(queue, Math.round((info.config.ack_wait ?? ackWaitMs * 1_000_000) / 1_000_000));
    } catch {
      await manager.consumers.add(name, {
        durable_name: CONSUMER,
        ack_policy: AckPolicy.Explicit,
        ack_wait: ackWaitMs * 1_000_000,
        max_deliver: -1,
        max_ack_pending: options.maxAckPending ?? 10_000,
      });
      ackWaitByQueue.set(queue, ackWaitMs);
    }
  }

  /**
   * The consumer's ack wait follows the lease fetches ask for, but only changes while nothing of the
   * queue is in flight: JetStream applies ack wait to every pending message, so changing it under a
   * leased job would shorten or stretch that job's lease. `Lease.leaseUntilMs` reports what was granted.
   */
  async function alignAckWait(queue: string, leaseMs: number): Promise<number> {
    const current = ackWaitByQueue.get(queue) ?? ackWaitMs;
    if (current === leaseMs) return current;
    const { jsm: manager } = live();
    const info = await manager.consumers.info(streamOf(queue), CONSUMER);
    if (info.num_ack_pending > 0) return current;
    await manager.consumers.update(streamOf(queue), CONSUMER, { ack_wait: leaseMs * 1_000_000 });
    ackWaitByQueue.set(queue, leaseMs);
    ackWaitMs = leaseMs;
    return leaseMs;
  }

  function messageHeaders(job: Job, msgId: string) {
    const h = headers();
    h.set('Nats-Msg-Id', msgId);
    h.set(HDR_ATTEMPT, String(job.attempt));
    if (job.lastError !== null) h.set(HDR_LAST_ERROR, encodeURIComponent(job.lastError));
    return h;
  }

  async function publish(job: Job, msgId: string): Promise<boolean> {
    const { js: client } = live();
    const ack = await client.publish(subjectOf(job.queue), encoder.encode(JSON.stringify(job)), {
      headers: messageHeaders(job, msgId),
    });
    return ack.duplicate;
  }

  function toLease(queue: string, msg: Msg, leaseUntilMs: number): Lease | null {
    const reply = msg.reply;
    const ackInfo = reply === undefined ? null : parseAckSubject(reply);
    if (reply === undefined || ackInfo === null) return null;
    const stored = JSON.parse(decoder.decode(msg.data)) as Job;
    const baseAttempt = Number(msg.headers?.get(HDR_ATTEMPT) ?? '0');
    const lastErrorHeader = msg.headers?.get(HDR_LAST_ERROR) ?? '';
    latestDelivery.set(`${queue}#${ackInfo.streamSeq}`, ackInfo.deliveryCount);
    return {
      job: {
        ...stored,
        queue,
        attempt: baseAttempt + ackInfo.deliveryCount,
        lastError: lastErrorHeader === '' ? null : decodeURIComponent(lastErrorHeader),
      },
      token: reply,
      leaseUntilMs,
    };
  }

  function forget(lease: Lease): void {
    const info = parseAckSubject(lease.token);
    if (info !== null) latestDelivery.delete(`${lease.job.queue}#${info.streamSeq}`);
  }

  /** Sends an ack-type reply and waits for the server to confirm it (so stats read after it agree). */
  async function reply(token: string, body: string): Promise<void> {
    const { nc: conn } = live();
    await conn.request(token, encoder.encode(body), { timeout: 5_000 });
  }

  /**
   * Acks, group-committed per queue. Not waiting at all would let `ack()` resolve before the server
   * has the ack (a worker killed then has its "completed" jobs redelivered, and stats lag). Waiting
   * for JetStream's reply to each ack (ack-ack) costs a round trip through the consumer per job per
   * worker slot: measured at half the throughput (bench/results/queue-nats.md). So the acks that
   * arrive together are published and one PING/PONG (flush) follows: the server reads a connection in
   * order, so its PONG proves it has read every ack before it — what survives a crash of this process.
   */
  const ackGroups = new Map<string, { pending: { token: string; resolve: () => void; reject: (e: unknown) => void }[]; flushing: boolean }>();

  function confirmedAck(queue: string, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let group = ackGroups.get(queue);
      if (group === undefined) ackGroups.set(queue, (group = { pending: [], flushing: false }));
      group.pending.push({ token, resolve, reject });
      if (!group.flushing) void flushAcks(group);
    });
  }

  async function flushAcks(group: { pending: { token: string; resolve: () => void; reject: (e: unknown) => void }[]; flushing: boolean }): Promise<void> {
    group.flushing = true;
    while (group.pending.length > 0) {
      const batch = group.pending.splice(0);
      try {
        const { nc: conn } = live();
        for (const item of batch) conn.publish(item.token, '+ACK');
        await conn.flush();
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    group.flushing = false;
  }

  async function claimDedup(jobs: Job[]): Promise<Map<number, string>> {
    const holders = new Map<number, string>();
    const withKeys = jobs.map((job, index) => ({ job, index })).filter(({ job }) => job.dedupKey !== null);
    for (const [queue, group] of groupByQueue(withKeys)) {
      const answer = await ledger!.claimDedupKeys('nats', queue, group.map(({ job }) => ({ key: job.dedupKey!, jobId: job.id })));
      group.forEach(({ index }, k) => {
        const holder = answer[k];
        if (holder !== null && holder !== undefined) holders.set(index, holder);
      });
    }
    return holders;
  }

  async function releaseDedup(job: Job): Promise<void> {
    if (job.dedupKey !== null) await ledger!.releaseDedupKeys('nats', job.queue, [{ key: job.dedupKey, jobId: job.id }]);
  }

  return {
    name: 'nats',
    capabilities: CAPABILITIES,

    async connect() {
      if (closed) throw closedError('nats');
      if (nc !== null) return;
      const conn = await connectWithRetries('nats', displayAddress, options, () =>
        connect({
          servers: serverList,
          // After a successful start, reconnect forever: a broker restart mid-run must not stop workers.
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          timeout: 2_000,
          ...options.connection,
        }),
      );
      try {
        jsm = await jetstreamManager(conn);
      } catch (error) {
        await conn.close();
        throw new ConfigError(`The NATS server at ${displayAddress} has JetStream disabled: start it with -js.`, { cause: error });
      }
      js = jetstream(conn);
      nc = conn;
      inbox = new PullRequests(conn, (msg) => {
        // A message for a pull that already ended: hand it straight back for redelivery.
        if (msg.reply !== undefined) conn.publish(msg.reply, '-NAK');
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      inbox?.close();
      const conn = nc;
      // Hand pulled-ahead messages straight back instead of leaving them to their ack wait.
      for (const buffer of buffers.values()) for (const { msg } of buffer.splice(0)) if (msg.reply !== undefined) conn?.publish(msg.reply, '-NAK');
      nc = null;
      js = null;
      jsm = null;
      inbox = null;
      if (conn !== null) await conn.drain().catch(() => conn.close());
    },

    async ensureQueue(queue) {
      live();
      await ensure(queue);
    },

    async enqueue(newJobs: readonly NewJob[]) {
      live();
      const now = clock.now();
      const jobs = dueJobs('NATS', newJobs, now);
      await Promise.all([...new Set(jobs.map((j) => j.queue))].map((q) => ensure(q)));
      const holders = await claimDedup(jobs);
      // Publishes are pipelined on one connection, in order: a repeated id within the batch is a duplicate.
      return Promise.all(
        jobs.map(async (job, index): Promise<EnqueueResult> => {
          const holder = holders.get(index);
          if (holder !== undefined) return { id: holder, deduplicated: true };
          const duplicate = await publish(job, enqueueMsgId(job));
          return { id: job.id, deduplicated: duplicate };
        }),
      );
    },

    async fetch(queue, fetchOptions) {
      const { inbox: pulls } = live();
      await ensure(queue);
      if (fetchOptions.max <= 0 || fetchOptions.signal?.aborted === true) return [];
      const leaseMs = await alignAckWait(queue, fetchOptions.leaseMs);
      const stream = streamOf(queue);
      let buffer = buffers.get(queue);
      if (buffer === undefined) buffers.set(queue, (buffer = []));
      // A buffered message whose ack wait (nearly) ran out has been or is about to be redelivered: drop it.
      // The margin is a quarter of the lease at most, so short leases (tests, fast reclaim) keep their buffer.
      const freshAfterMs = clock.now() - leaseMs + Math.min(DUE_TOLERANCE_MS, leaseMs / 4);
      for (let i = buffer.length - 1; i >= 0; i -= 1) if (buffer[i]!.receivedAtMs < freshAfterMs) buffer.splice(i, 1);
      if (buffer.length < fetchOptions.max) {
        const want = Math.max(fetchOptions.max, prefetch) - buffer.length;
        const arrived = (msgs: Msg[]) => buffer.push(...msgs.map((msg) => ({ msg, receivedAtMs: clock.now() })));
        arrived(await pulls.pull(stream, CONSUMER, want, 0));
        if (buffer.length === 0 && fetchOptions.waitMs > 0) {
          arrived(await pulls.pull(stream, CONSUMER, 1, fetchOptions.waitMs, fetchOptions.signal));
          if (buffer.length > 0 && want > 1) arrived(await pulls.pull(stream, CONSUMER, want - 1, 0));
        }
      }
      return buffer
        .splice(0, fetchOptions.max)
        .map((b) => toLease(queue, b.msg, b.receivedAtMs + leaseMs))
        .filter((l): l is Lease => l !== null);
    },

    async ack(lease) {
      await confirmedAck(lease.job.queue, lease.token);
      forget(lease);
      await releaseDedup(lease.job);
    },

    async retry(lease, retryOptions) {
      const delayMs = retryOptions.runAtMs - clock.now();
      if (delayMs > DUE_TOLERANCE_MS) {
        // Native delayed redelivery; the delivery count keeps the attempt, the message cannot carry the new error.
        await reply(lease.token, `-NAK ${JSON.stringify({ delay: Math.round(delayMs * 1_000_000) })}`);
        forget(lease);
        return;
      }
      // Republish with the attempt and error in headers, then ack the delivery: at-least-once, and the
      // next delivery carries the last error. The msg id is per attempt so the duplicate window allows it.
      const job: Job = { ...lease.job, lastError: retryOptions.error };
      await publish(job, `${job.id}#a${job.attempt}#${randomUUID()}`);
      await reply(lease.token, '+ACK');
      forget(lease);
    },

    async deadLetter(lease, error) {
      await ledger.putDeadLetter('nats', { job: { ...lease.job, lastError: error }, error, deadAtMs: clock.now() });
      await reply(lease.token, '+TERM');
      forget(lease);
      await releaseDedup(lease.job);
    },

    extendLease(lease) {
      const { nc: conn } = live();
      const info = parseAckSubject(lease.token);
      if (info === null) return Promise.resolve(false);
      const latest = latestDelivery.get(`${lease.job.queue}#${info.streamSeq}`);
      // A later delivery of the same message reached this process: the lease was lost to a reclaim.
      // (A reclaim by another process is not visible here; its ack wins, at-least-once.)
      if (latest === undefined || latest !== info.deliveryCount) return Promise.resolve(false);
      conn.publish(lease.token, '+WPI');
      return Promise.resolve(true);
    },

    ...createLedgerDeadLetters({
      provider: 'nats',
      ledger,
      clock,
      live,
      ensureQueue: ensure,
      // A replay is a new message: its own id, so the duplicate window never swallows it.
      sendOne: async (job) => void (await publish(job, `${job.id}#replay#${randomUUID()}`)),
    }),

    async stats(queue): Promise<QueueStats> {
      const { jsm: manager } = live();
      await ensure(queue);
      const info = await manager.consumers.info(streamOf(queue), CONSUMER);
      let oldestWaitingAgeMs: number | null = null;
      if (info.num_pending > 0) {
        const next = await manager.streams
          .getMessage(streamOf(queue), { seq: info.delivered.stream_seq + 1 })
          .catch(() => null);
        if (next !== null) oldestWaitingAgeMs = Math.max(0, clock.now() - next.time.getTime());
      }
      // Pulled ahead but not handed to a worker: waiting, though the server counts them as pending acks.
      const buffered = Math.min(buffers.get(queue)?.length ?? 0, info.num_ack_pending);
      return {
        queue,
        waiting: info.num_pending + buffered,
        active: info.num_ack_pending - buffered,
        delayed: 0,
        dead: await ledger.countDeadLetters('nats', queue),
        oldestWaitingAgeMs,
      };
    },

    async health() {
      const started = performance.now();
      try {
        await live().nc.rtt();
        return { ok: true, latencyMs: performance.now() - started };
      } catch (error) {
        return { ok: false, latencyMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

/**
 * The JetStream message id of an enqueue. A fresh job uses its id, so enqueueing it twice within the
 * duplicate window makes one message. A job Kairos hands back after holding it (a delayed retry, so
 * `attempt > 0`) keeps its id but must not collide with its own first publish still inside the
 * window: its message id names the attempt — and a hand-over repeated after a dispatcher crash still
 * deduplicates, since it carries the same attempt.
 */
function enqueueMsgId(job: Job): string {
  return job.attempt > 0 ? `${job.id}#held${job.attempt}` : job.id;
}

function groupByQueue<T extends { job: Job }>(items: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.job.queue) ?? [];
    group.push(item);
    groups.set(item.job.queue, group);
  }
  return groups;
}
