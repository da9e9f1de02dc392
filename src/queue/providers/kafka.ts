import type { Admin, Kafka, KafkaConfig, LogEntry, Producer } from 'kafkajs';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { ConfigError, ProviderUnavailableError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Job, Lease, NewJob, ProviderCapabilities, QueueProvider, QueueStats } from '../contract.js';
import { createBrokerLedger, type BrokerLedger, type DedupClaim } from '../ledger/index.js';
import { closedError, connectWithRetries, type ConnectRetryOptions } from './broker/connect.js';
import { createLedgerDeadLetters } from './broker/dead-letters.js';
import { DUE_TOLERANCE_MS, dueJobs } from './broker/jobs.js';
import { claimBatch, createClaimReleaser, jobClaims, releaseJobClaims } from './broker/claims.js';
import { decodeJob, encodeJob } from './kafka/messages.js';
import { OffsetTracker } from './kafka/offsets.js';
import { commit, resumeIfDrained, wake, type Delivery, type QueueConsumer } from './kafka/consumer-state.js';
import { sharedAttempt } from './broker/shared-attempt.js';
import { waitForWake } from './broker/wait-for-wake.js';

/** Options of {@link createKafkaProvider}. */
export interface KafkaProviderOptions extends ConnectRetryOptions {
  /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. Required. */
  brokers: string[];
  /** Client id sent to the brokers. Default `kairos`. */
  clientId?: string;
  /** Prefix of topic names (`<prefix>.<queue>`, `<prefix>.<queue>.dlq`) and consumer groups. Default `kairos`. */
  prefix?: string;
  /** Where dead letters and dedup keys are recorded: a ledger, or the Kairos store to build one on. Required. */
  ledger?: BrokerLedger;
  store?: Store;
  /** Partitions of a topic created by `ensureQueue`: the most consumers (processes) that share a queue. Default 6. */
  partitions?: number;
  /** Replication factor of created topics. Default -1 (the broker's `default.replication.factor`). */
  replicationFactor?: number;
  /** Most records buffered per queue before the consumer pauses its topic. Default 1000. */
  maxBufferedMessages?: number;
  /** Extra kafkajs client settings (ssl, sasl, timeouts). `brokers`, `clientId` and logging are set by the provider. Default none. */
  kafka?: Omit<KafkaConfig, 'brokers' | 'clientId' | 'logCreator' | 'logLevel'>;
  /** Receives kafkajs's own log lines (warn and above). Default silent. */
  logger?: Logger;
  clock?: Clock;
}

const CAPABILITIES: ProviderCapabilities = {
  nativeDelay: false,
  priority: false,
  nativeDedup: false,
  inspect: false,
  ordering: 'none',
};

/** Clock skew tolerated before a future `runAtMs` counts as a delay this provider cannot hold. */

/**
 * A queue provider on Kafka (kafkajs): one topic per queue, one consumer group per queue, pull-style
 * fetch over the group consumer (records are buffered; the topic is paused while the buffer is full).
 *
 * Kafka tracks one committed offset per partition, not per message, so acks are turned into commits
 * by an {@link OffsetTracker}: the provider commits only up to the first record still unacked. A
 * process that dies loses nothing — every record past the commit is delivered again to the group
 * (at-least-once). The lease is kept in the process (as for RabbitMQ): a record not acked, retried
 * or extended within `leaseMs` is handed out again by a later fetch. A retry is a new record carrying
 * the attempt and last error in headers; the old one is acked. Dead letters go to the broker ledger
 * (list / replay / purge) and to a `<queue>.dlq` topic for other Kafka consumers.
 *
 * What Kafka cannot do, said plainly: no delay (Kairos holds delayed jobs), no priority, and an
 * attempt count that survives a crash only per record (a record redelivered after a crash starts
 * again at its header's attempt + 1).
 */
export function createKafkaProvider(options: KafkaProviderOptions): QueueProvider {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0 || options.brokers.some((b) => typeof b !== 'string' || b === '')) {
    throw new ConfigError("The Kafka provider needs `brokers`, a list of 'host:port' addresses (e.g. ['127.0.0.1:9092']).", {
      details: { field: 'brokers', value: options.brokers },
    });
  }
  const prefix = options.prefix ?? 'kairos';
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new ConfigError(`Kafka prefix '${prefix}' may only use letters, digits, '_' and '-'.`, { details: { field: 'prefix', value: prefix } });
  }
  const partitions = options.partitions ?? 6;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new ConfigError('Kafka `partitions` must be a whole number ≥ 1.', { details: { field: 'partitions', value: partitions } });
  }
  const ledger = options.ledger ?? (options.store !== undefined ? createBrokerLedger(options.store) : undefined);
  if (ledger === undefined) {
    throw new ConfigError('The Kafka provider needs `store` (or `ledger`) to record dead letters and dedup keys.', { details: { field: 'store' } });
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxBuffered = Math.max(1, options.maxBufferedMessages ?? 1_000);
  const displayAddress = options.brokers.join(',');

  /** Loaded on connect, not on import: kafkajs is paid for only by those who use Kafka. */
  async function newKafka(): Promise<Kafka> {
    const { Kafka: KafkaClient, logLevel } = await import('kafkajs');
    return new KafkaClient({
      ...options.kafka,
      brokers: options.brokers,
      clientId: options.clientId ?? 'kairos',
      // kafkajs logs to the console by default; the library never does: route it to the injected logger.
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        const line = { kafka: entry.namespace, ...rest };
        if (entry.level === logLevel.ERROR) logger.error(line, message);
        else logger.warn(line, message);
      },
    });
  }

  let kafka: Kafka | null = null;
  let producer: Producer | null = null;
  let admin: Admin | null = null;
  let closed = false;
  const ensured = new Map<string, Promise<void>>();
  const consumers = new Map<string, Promise<QueueConsumer>>();
  /** Records handed out by fetch and not yet settled, by token; `untilMs` is the in-process lease. */
  const leases = new Map<string, { queue: string; delivery: Delivery; untilMs: number }>();

  const topicOf = (queue: string): string => `${prefix}.${queue.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const groupOf = (queue: string): string => `${prefix}.${queue.replace(/[^A-Za-z0-9._-]/g, '_')}.workers`;
  const tokenOf = (queue: string, d: Delivery): string => `${queue}#${d.partition}#${d.offset}#${d.deliveries}`;

  function live(): { kafka: Kafka; producer: Producer; admin: Admin } {
    if (closed || kafka === null || producer === null || admin === null) throw closedError('kafka');
    return { kafka, producer, admin };
  }

  function ensure(queue: string): Promise<void> {
    return sharedAttempt(ensured, queue, async () => {
      const { admin: client } = live();
      const replicationFactor = options.replicationFactor ?? -1;
      // createTopics resolves false (no error) for topics that already exist.
      await client.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: topicOf(queue), numPartitions: partitions, replicationFactor },
          { topic: `${topicOf(queue)}.dlq`, numPartitions: 1, replicationFactor },
        ],
      });
    });
  }

  async function produce(topic: string, jobs: readonly Job[]): Promise<void> {
    const { producer: client } = live();
    try {
      // acks -1: the record is on every in-sync replica before the enqueue counts as done.
      await client.send({ topic, acks: -1, messages: jobs.map(encodeJob) });
    } catch (error) {
      throw new ProviderUnavailableError(`Kafka at ${displayAddress} did not acknowledge the records: nothing is assumed sent.`, {
        cause: error,
        details: { provider: 'kafka', address: displayAddress, topic },
      });
    }
  }

  /**
   * Ledger claims: the dedup key and the job id, generated ids included. (RabbitMQ records in the
   * message whether the id was chosen and skips generated ones; the Kafka record format stays as it
   * is until its suite can run against a broker.)
   */
  const claimsOf = (job: Job): DedupClaim[] => jobClaims(job);
  const releaseClaims = createClaimReleaser(ledger, 'kafka');

  function consumerFor(queue: string): Promise<QueueConsumer> {
    return sharedAttempt(consumers, queue, () => startConsumer(queue));
  }

  async function startConsumer(queue: string): Promise<QueueConsumer> {
    await ensure(queue);
    const topic = topicOf(queue);
    const groupId = groupOf(queue);
    const consumer = live().kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const state: QueueConsumer = {
      consumer,
      groupId,
      topic,
      tracker: new OffsetTracker(),
      buffer: [],
      paused: false,
      waiters: new Set(),
      dirty: new Map(),
      committing: null,
      nextCommit: null,
      dead: false,
    };
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      // After a rebalance kafkajs reads each assigned partition again from its committed offset.
      // Partitions we lost: their records now belong to another member — forget them and lose their
      // leases. Partitions we kept: the tracker skips records it has already handed out.
      const assigned = new Set(event.payload.memberAssignment[topic] ?? []);
      const dropped = new Set(state.tracker.retainOnly(assigned));
      if (dropped.size === 0) return;
      state.buffer = state.buffer.filter((d) => !dropped.has(d.partition));
      for (const [token, lease] of leases) if (lease.queue === queue && dropped.has(lease.delivery.partition)) leases.delete(token);
      for (const partition of dropped) state.dirty.delete(partition);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) return;
      // A crash kafkajs will not restart from: the next fetch starts a new consumer; records past
      // the commit are delivered to it again.
      state.dead = true;
      if (consumers.get(queue) !== undefined) consumers.delete(queue);
      for (const [token, lease] of leases) if (lease.queue === queue) leases.delete(token);
      wake(state);
    });
    await consumer.connect();
    // fromBeginning: a new group starts at the oldest record, so jobs enqueued before the first worker run.
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        const offset = BigInt(message.offset);
        if (state.tracker.track(partition, offset)) state.buffer.push({ partition, offset, message, deliveries: 0 });
        if (!state.paused && state.buffer.length >= maxBuffered) {
          state.paused = true;
          consumer.pause([{ topic }]);
        }
        wake(state);
        return Promise.resolve();
      },
    });
    return state;
  }

  /** Marks the lease's record done; resolves once the commit it allowed (if any) is on the broker. */
  async function settleOffset(lease: Lease): Promise<boolean> {
    const held = leases.get(lease.token);
    if (held === undefined) return false;
    leases.delete(lease.token);
    const state = await consumers.get(held.queue);
    if (state === undefined || state.dead) return false;
    const { partition, offset } = held.delivery;
    const commitOffset = state.tracker.ack(partition, offset);
    if (commitOffset !== null) {
      state.dirty.set(partition, commitOffset);
      try {
        await commit(state);
      } catch (error) {
        throw new ProviderUnavailableError(
          `Kafka at ${displayAddress} did not take the commit of ${state.topic}[${partition}]: the job may run again (at-least-once).`,
          { cause: error, details: { provider: 'kafka', topic: state.topic, partition } },
        );
      }
    }
    resumeIfDrained(state, maxBuffered);
    return true;
  }

  /** Hands records whose in-process lease ran out back to the front of the buffer. */
  function returnExpired(queue: string, state: QueueConsumer): void {
    const now = clock.now();
    const expired: Delivery[] = [];
    for (const [token, lease] of leases) {
      if (lease.queue !== queue || lease.untilMs > now) continue;
      leases.delete(token);
      if (state.tracker.isPending(lease.delivery.partition, lease.delivery.offset)) expired.push(lease.delivery);
    }
    if (expired.length > 0) state.buffer.unshift(...expired);
  }

  function toLease(queue: string, delivery: Delivery, leaseMs: number): Lease | null {
    const decoded = decodeJob(queue, delivery.message);
    if (decoded === null) return null;
    delivery.deliveries += 1;
    const token = tokenOf(queue, delivery);
    const untilMs = clock.now() + leaseMs;
    leases.set(token, { queue, delivery, untilMs });
    return { job: { ...decoded.job, attempt: decoded.baseAttempt + delivery.deliveries }, token, leaseUntilMs: untilMs };
  }

  return {
    name: 'kafka',
    capabilities: CAPABILITIES,

    async connect() {
      if (closed) throw closedError('kafka');
      if (producer !== null) return;
      const client = kafka ?? (await newKafka());
      const [nextProducer, nextAdmin] = await connectWithRetries('kafka', displayAddress, options, async () => {
        const p = client.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
        const a = client.admin();
        try {
          await p.connect();
          await a.connect();
          return [p, a] as const;
        } catch (error) {
          await p.disconnect().catch(() => undefined);
          await a.disconnect().catch(() => undefined);
          throw error;
        }
      });
      kafka = client;
      producer = nextProducer;
      admin = nextAdmin;
    },

    async close() {
      if (closed) return;
      closed = true;
      const states = await Promise.allSettled([...consumers.values()]);
      consumers.clear();
      leases.clear();
      for (const result of states) {
        if (result.status !== 'fulfilled') continue;
        wake(result.value);
        // Unacked records are not committed: the group delivers them again to whoever runs next.
        await result.value.consumer.disconnect().catch(() => undefined);
      }
      await producer?.disconnect().catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
      producer = null;
      admin = null;
    },

    async ensureQueue(queue) {
      live();
      await ensure(queue);
    },

    async enqueue(newJobs: readonly NewJob[]) {
      live();
      const now = clock.now();
      const jobs = dueJobs('Kafka', newJobs, now);
      await Promise.all([...new Set(jobs.map((j) => j.queue))].map((q) => ensure(q)));
      const { results, accepted } = await claimBatch(ledger, 'kafka', jobs, claimsOf);
      const toSend = new Map<string, Job[]>();
      for (const job of accepted) {
        const group = toSend.get(job.queue) ?? [];
        group.push(job);
        toSend.set(job.queue, group);
      }
      try {
        await Promise.all([...toSend].map(([queue, group]) => produce(topicOf(queue), group)));
      } catch (error) {
        await releaseJobClaims(ledger, 'kafka', accepted, claimsOf);
        throw error;
      }
      return results;
    },

    async fetch(queue, fetchOptions) {
      live();
      const deadline = clock.now() + Math.max(0, fetchOptions.waitMs);
      for (;;) {
        if (fetchOptions.signal?.aborted === true || fetchOptions.max <= 0) return [];
        const state = await consumerFor(queue);
        returnExpired(queue, state);
        const taken: Lease[] = [];
        while (taken.length < fetchOptions.max && state.buffer.length > 0) {
          const delivery = state.buffer.shift()!;
          const lease = toLease(queue, delivery, fetchOptions.leaseMs);
          if (lease !== null) taken.push(lease);
          else {
            // Not a Kairos record: step over it so it does not hold the commit back (sent with the next commit).
            const commitOffset = state.tracker.ack(delivery.partition, delivery.offset);
            if (commitOffset !== null) state.dirty.set(delivery.partition, commitOffset);
          }
        }
        resumeIfDrained(state, maxBuffered);
        if (taken.length > 0) return taken;
        const remainingMs = deadline - clock.now();
        if (remainingMs <= 0 || state.dead) return [];
        const nextExpiryMs = Math.min(...[...leases.values()].filter((l) => l.queue === queue).map((l) => l.untilMs - clock.now()));
        await waitForWake(state.waiters, Math.min(remainingMs, nextExpiryMs), fetchOptions.signal);
      }
    },

    async ack(lease) {
      // A lost lease: the record is live again (here or at another member); its next holder releases the claims.
      if (!(await settleOffset(lease))) return;
      await releaseClaims(lease.job.queue, claimsOf(lease.job));
    },

    async retry(lease, retryOptions) {
      if (retryOptions.runAtMs > clock.now() + DUE_TOLERANCE_MS) {
        throw new ConfigError('The Kafka provider cannot delay a retry: the Kairos runtime holds delayed retries.', {
          details: { field: 'runAtMs', value: retryOptions.runAtMs },
        });
      }
      if (!leases.has(lease.token)) return; // The lease was lost: the record is handed out again anyway.
      // The next attempt is a new record carrying the attempt made; then the old record is done.
      await produce(topicOf(lease.job.queue), [{ ...lease.job, lastError: retryOptions.error }]);
      await settleOffset(lease);
    },

    async deadLetter(lease, error) {
      if (!leases.has(lease.token)) return;
      const job: Job = { ...lease.job, lastError: error };
      await ledger.putDeadLetter('kafka', { job, error, deadAtMs: clock.now() });
      await produce(`${topicOf(lease.job.queue)}.dlq`, [job]);
      await settleOffset(lease);
      await releaseClaims(lease.job.queue, claimsOf(lease.job));
    },

    extendLease(lease, leaseMs) {
      const held = leases.get(lease.token);
      if (held === undefined) return Promise.resolve(false);
      held.untilMs = clock.now() + leaseMs;
      return Promise.resolve(true);
    },

    ...createLedgerDeadLetters({
      provider: 'kafka',
      ledger,
      clock,
      live,
      ensureQueue: ensure,
      claimsOf,
      sendAll: (jobs) => produce(topicOf(jobs[0]!.queue), jobs),
    }),

    async stats(queue): Promise<QueueStats> {
      const { admin: client } = live();
      await ensure(queue);
      const topic = topicOf(queue);
      const [ends, committed] = await Promise.all([client.fetchTopicOffsets(topic), client.fetchOffsets({ groupId: groupOf(queue), topics: [topic] })]);
      const committedByPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      let lag = 0n;
      for (const end of ends) {
        const done = committedByPartition.get(end.partition) ?? -1n;
        // -1: the group never committed on this partition; it starts from the oldest record kept.
        const from = done < 0n ? BigInt(end.low) : done;
        lag += BigInt(end.high) > from ? BigInt(end.high) - from : 0n;
      }
      const state = consumers.has(queue) ? await consumers.get(queue)!.catch(() => undefined) : undefined;
      const active = [...leases.values()].filter((l) => l.queue === queue).length;
      const heldBack = state?.tracker.ackedUncommitted() ?? 0;
      // Records past the commit are waiting, except those leased here and those done but held back
      // behind an earlier unacked one. Leases of other processes count as waiting: Kafka cannot tell.
      const waiting = Math.max(0, Number(lag) - active - heldBack);
      return { queue, waiting, active, delayed: 0, dead: await ledger.countDeadLetters('kafka', queue), oldestWaitingAgeMs: null };
    },

    async health() {
      const started = performance.now();
      try {
        await live().admin.describeCluster();
        return { ok: true, latencyMs: performance.now() - started };
      } catch (error) {
        return { ok: false, latencyMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
