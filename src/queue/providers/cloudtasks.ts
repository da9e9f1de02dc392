import type { CloudTasksClient } from '@google-cloud/tasks';
import { systemClock, type Clock } from '../../core/clock.js';
import { ConfigError, ProviderUnavailableError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { EnqueueResult, Job, NewJob, ProviderCapabilities, QueueProvider, QueueStats } from '../contract.js';
import { createBrokerLedger, type BrokerLedger, type DedupClaim } from '../ledger/index.js';
import { closedError, connectWithRetries, type ConnectRetryOptions } from './broker/connect.js';
import { createLedgerDeadLetters } from './broker/dead-letters.js';
import { toJob } from './broker/jobs.js';
import { createCloudTasksReceiver, type CloudTasksReceiver } from './cloudtasks/receiver.js';
import { isAlreadyExists, isNotFound, queueIdOf, taskFor, type TaskTarget } from './cloudtasks/tasks.js';
import { sharedAttempt } from './broker/shared-attempt.js';

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]>;

/** Options of {@link createCloudTasksProvider}. */
export interface CloudTasksProviderOptions extends ConnectRetryOptions {
  /** Google Cloud project id. Required unless `parent` is given. */
  project?: string;
  /** Cloud Tasks location, e.g. `europe-west1`. Required unless `parent` is given. */
  location?: string;
  /** `projects/<project>/locations/<location>` in one string (what KAIROS_CLOUDTASKS_PARENT holds). */
  parent?: string;
  /** Prefix of Cloud Tasks queue ids (`<prefix>-<queue>`). Default `kairos`. */
  queuePrefix?: string;
  /** The URL Cloud Tasks pushes to: where the receiver's `handle` is mounted. Required. */
  targetUrl: string;
  /** Service account for the OIDC token Cloud Tasks adds to each push (audience `targetUrl`). Default none. */
  serviceAccountEmail?: string;
  /** A shared secret sent as X-Kairos-Token with each push and checked by the receiver. Default none. */
  receiverSecret?: string;
  /** The receiver pushes arrive at. Default: a new one (`provider.receiver`), built with `receiverSecret`. */
  receiver?: CloudTasksReceiver;
  /** How long Cloud Tasks waits for an answer before it retries the task, ms (15000..1800000). Default 600000 (10 min). */
  dispatchDeadlineMs?: number;
  /** A ready client (tests, custom auth). Default: a new CloudTasksClient with `clientOptions`. */
  client?: CloudTasksClient;
  /** Options of the default client (credentials, keyFilename…). Default none: Application Default Credentials. */
  clientOptions?: ClientOptions;
  /** `host:port` of a Cloud Tasks emulator (plain gRPC, no TLS, no auth). Default none. */
  emulatorHost?: string;
  /** Where dead letters and dedup keys are recorded: a ledger, or the Kairos store to build one on. Required. */
  ledger?: BrokerLedger;
  store?: Store;
  /** Most tasks created at once by one enqueue call. Default 16. */
  createConcurrency?: number;
  clock?: Clock;
}

/** The Cloud Tasks provider, with the receiver its pushes arrive at. */
export interface CloudTasksProvider extends QueueProvider {
  readonly receiver: CloudTasksReceiver;
}

const CAPABILITIES: ProviderCapabilities = {
  nativeDelay: true,
  priority: false,
  // Job ids are deduplicated by Cloud Tasks (task names); dedup keys go through the Kairos ledger.
  nativeDedup: false,
  inspect: false,
  ordering: 'none',
};

/** A retry due within this is answered 503 (Cloud Tasks' own backoff); later ones become a scheduled task. */
const DUE_TOLERANCE_MS = 1_000;
/** stats() counts tasks by listing them: a queue longer than this reports this many. */
const STATS_LIST_CAP = 10_000;

/**
 * A queue provider on Google Cloud Tasks with HTTP-target tasks. Cloud Tasks pushes; Kairos workers
 * pull: each task is a POST of the job to `targetUrl`, where the {@link CloudTasksReceiver} holds the
 * request open until a worker settles the job (200 on ack or dead letter, 503 to have Cloud Tasks
 * retry). Delays are native (`scheduleTime`); a retry due later than now is a new task scheduled at
 * the backoff's time (named `<job id>-a<attempt>`), a retry due now is a 503. The task name is derived
 * from the job id, so Cloud Tasks refuses a second enqueue of one id. Dead letters live in the broker
 * ledger; Cloud Tasks queues are created with unlimited attempts, because Kairos decides when a job is dead.
 */
export function createCloudTasksProvider(options: CloudTasksProviderOptions): CloudTasksProvider {
  const parent = options.parent ?? (options.project !== undefined && options.location !== undefined ? `projects/${options.project}/locations/${options.location}` : undefined);
  if (parent === undefined || !/^projects\/[^/]+\/locations\/[^/]+$/.test(parent)) {
    throw new ConfigError('The Cloud Tasks provider needs `project` and `location` (or `parent`: projects/<project>/locations/<location>).', {
      details: { field: options.parent !== undefined ? 'parent' : 'project', value: options.parent ?? options.project },
    });
  }
  let targetUrl: URL;
  try {
    targetUrl = new URL(options.targetUrl);
    if (targetUrl.protocol !== 'https:' && targetUrl.protocol !== 'http:') throw new Error('not http(s)');
  } catch (cause) {
    throw new ConfigError(`Cloud Tasks \`targetUrl\` must be the http(s) URL the receiver is mounted at, got '${String(options.targetUrl)}'.`, {
      cause,
      details: { field: 'targetUrl', value: options.targetUrl },
    });
  }
  const dispatchDeadlineMs = options.dispatchDeadlineMs ?? 600_000;
  if (!Number.isFinite(dispatchDeadlineMs) || dispatchDeadlineMs < 15_000 || dispatchDeadlineMs > 1_800_000) {
    throw new ConfigError('Cloud Tasks `dispatchDeadlineMs` must be from 15000 to 1800000 (15 s to 30 min).', {
      details: { field: 'dispatchDeadlineMs', value: dispatchDeadlineMs },
    });
  }
  const ledger = options.ledger ?? (options.store !== undefined ? createBrokerLedger(options.store) : undefined);
  if (ledger === undefined) {
    throw new ConfigError('The Cloud Tasks provider needs `store` (or `ledger`) to record dead letters and dedup keys.', { details: { field: 'store' } });
  }
  const clock = options.clock ?? systemClock;
  const prefix = options.queuePrefix ?? 'kairos';
  const receiver = options.receiver ?? createCloudTasksReceiver(options.receiverSecret === undefined ? { clock } : { secret: options.receiverSecret, clock });
  const target: TaskTarget = {
    url: targetUrl.toString(),
    dispatchDeadlineMs,
    ...(options.serviceAccountEmail === undefined ? {} : { serviceAccountEmail: options.serviceAccountEmail }),
    ...(options.receiverSecret === undefined ? {} : { secret: options.receiverSecret }),
  };
  const createConcurrency = Math.max(1, options.createConcurrency ?? 16);
  const displayAddress = options.emulatorHost ?? parent;

  let client: CloudTasksClient | null = null;
  let closed = false;
  const ensured = new Map<string, Promise<void>>();

  const queuePath = (queue: string): string => `${parent}/queues/${queueIdOf(prefix, queue)}`;

  function live(): CloudTasksClient {
    if (closed || client === null) throw closedError('cloudtasks');
    return client;
  }

  async function newClient(): Promise<CloudTasksClient> {
    if (options.client !== undefined) return options.client;
    // Loaded on connect, not on import: the Google client costs ~150 ms to load, paid only by its users.
    const { CloudTasksClient } = await import('@google-cloud/tasks');
    if (options.emulatorHost === undefined) return new CloudTasksClient(options.clientOptions);
    const [host, port] = splitHostPort(options.emulatorHost);
    // The emulator speaks plain gRPC: insecure channel credentials from the client's own gRPC stack.
    const { grpc } = await import('google-gax');
    return new CloudTasksClient({ ...options.clientOptions, servicePath: host, apiEndpoint: host, port, sslCreds: grpc.credentials.createInsecure() });
  }

  function ensure(queue: string): Promise<void> {
    const create = async (): Promise<void> => {
      const tasks = live();
      try {
        await tasks.getQueue({ name: queuePath(queue) });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await tasks
          .createQueue({ parent, queue: { name: queuePath(queue), retryConfig: { maxAttempts: -1, minBackoff: { seconds: 1 } } } })
          .catch((e: unknown) => {
            if (!isAlreadyExists(e)) throw e;
          });
      }
    };
    return sharedAttempt(ensured, queue, () =>
      create().catch((error: unknown) => {
        throw unavailable('could not get or create the queue', error);
      }),
    );
  }

  function unavailable(what: string, cause: unknown): ProviderUnavailableError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ProviderUnavailableError(`Cloud Tasks (${displayAddress}) ${what}: ${reason}`, { cause, details: { provider: 'cloudtasks', address: displayAddress } });
  }

  /** Creates the task; false when a task of that name exists (the job was enqueued already). */
  async function createTask(job: Job, nameSuffix = ''): Promise<boolean> {
    try {
      await live().createTask({ parent: queuePath(job.queue), task: taskFor(queuePath(job.queue), job, target, nameSuffix) });
      return true;
    } catch (error) {
      if (isAlreadyExists(error)) return false;
      throw unavailable(`did not create the task for job ${job.id}`, error);
    }
  }

  const dedupClaim = (job: Job): DedupClaim[] => (job.dedupKey === null ? [] : [{ key: job.dedupKey, jobId: job.id }]);

  const provider: CloudTasksProvider = {
    name: 'cloudtasks',
    capabilities: CAPABILITIES,
    receiver,

    async connect() {
      if (closed) throw closedError('cloudtasks');
      if (client !== null) return;
      client = await connectWithRetries('cloudtasks', displayAddress, options, async () => {
        const candidate = await newClient();
        await candidate.listQueues({ parent, pageSize: 1 }, { autoPaginate: false });
        return candidate;
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      receiver.close();
      const current = client;
      client = null;
      if (current !== null && options.client === undefined) await current.close().catch(() => undefined);
    },

    async ensureQueue(queue) {
      live();
      await ensure(queue);
    },

    async enqueue(newJobs: readonly NewJob[]) {
      live();
      const now = clock.now();
      const jobs = newJobs.map((j) => toJob(j, now));
      await Promise.all([...new Set(jobs.map((j) => j.queue))].map((q) => ensure(q)));
      const results = new Array<EnqueueResult>(jobs.length);
      let next = 0;
      const seen = new Set<string>();
      const work = async (): Promise<void> => {
        while (next < jobs.length) {
          const index = next;
          next += 1;
          const job = jobs[index]!;
          if (seen.has(`${job.queue}\n${job.id}`)) {
            results[index] = { id: job.id, deduplicated: true };
            continue;
          }
          seen.add(`${job.queue}\n${job.id}`);
          const claims = dedupClaim(job);
          if (claims.length > 0) {
            const [holder] = await ledger.claimDedupKeys('cloudtasks', job.queue, claims);
            if (holder !== null && holder !== undefined && holder !== job.id) {
              results[index] = { id: holder, deduplicated: true };
              continue;
            }
          }
          let created: boolean;
          try {
            created = await createTask(job);
          } catch (error) {
            await ledger.releaseDedupKeys('cloudtasks', job.queue, claims);
            throw error;
          }
          results[index] = { id: job.id, deduplicated: !created };
        }
      };
      await Promise.all(Array.from({ length: Math.min(createConcurrency, jobs.length) }, work));
      return results;
    },

    async fetch(queue, fetchOptions) {
      live();
      const pushes = await receiver.take(queue, fetchOptions.max, fetchOptions.leaseMs, fetchOptions.waitMs, fetchOptions.signal);
      return pushes.map((p) => ({ job: { ...p.job, queue, attempt: p.attempt }, token: p.token, leaseUntilMs: p.untilMs }));
    },

    async ack(lease) {
      receiver.settle(lease.token, 'ack');
      await ledger.releaseDedupKeys('cloudtasks', lease.job.queue, dedupClaim(lease.job));
    },

    async retry(lease, retryOptions) {
      if (retryOptions.runAtMs <= clock.now() + DUE_TOLERANCE_MS) {
        // Due now: a 503 has Cloud Tasks deliver the same task again (after its queue's minBackoff).
        receiver.settle(lease.token, 'retry', retryOptions.error);
        return;
      }
      // Due later: a new task at the backoff's time carries the attempt and error; then the push is done.
      // Created first, answered second: a crash in between runs the job once more, never zero times.
      const job: Job = { ...lease.job, runAtMs: retryOptions.runAtMs, lastError: retryOptions.error };
      await createTask(job, `-a${lease.job.attempt}`);
      receiver.settle(lease.token, 'ack');
    },

    async deadLetter(lease, error) {
      await ledger.putDeadLetter('cloudtasks', { job: { ...lease.job, lastError: error }, error, deadAtMs: clock.now() });
      receiver.settle(lease.token, 'dead', error);
      await ledger.releaseDedupKeys('cloudtasks', lease.job.queue, dedupClaim(lease.job));
    },

    extendLease(lease, leaseMs) {
      return Promise.resolve(receiver.extend(lease.token, leaseMs));
    },

    ...createLedgerDeadLetters({
      provider: 'cloudtasks',
      ledger,
      clock,
      live,
      ensureQueue: ensure,
      claimsOf: dedupClaim,
      // The original task name stays reserved for a while after it ended: a replay is a new name.
      sendOne: async (job) => void (await createTask(job, `-r${job.runAtMs}`)),
    }),

    async stats(queue): Promise<QueueStats> {
      const tasks = live();
      await ensure(queue);
      const now = clock.now();
      let due = 0;
      let delayed = 0;
      let oldestDueMs: number | null = null;
      // Cloud Tasks v2 has no queue statistics: list the tasks (capped) and sort them by schedule time.
      const iterable = tasks.listTasksAsync({ parent: queuePath(queue), pageSize: 1_000 });
      let counted = 0;
      for await (const task of iterable) {
        const atMs = Number(task.scheduleTime?.seconds ?? 0) * 1_000 + Math.floor((task.scheduleTime?.nanos ?? 0) / 1_000_000);
        if (atMs > now) delayed += 1;
        else {
          due += 1;
          oldestDueMs = oldestDueMs === null ? atMs : Math.min(oldestDueMs, atMs);
        }
        counted += 1;
        if (counted >= STATS_LIST_CAP) break;
      }
      // Tasks pushed to a receiver stay listed until answered: those leased here are active, not waiting.
      const active = receiver.leasedCount(queue);
      return {
        queue,
        waiting: Math.max(0, due - active),
        active,
        delayed,
        dead: await ledger.countDeadLetters('cloudtasks', queue),
        oldestWaitingAgeMs: oldestDueMs === null ? null : Math.max(0, now - oldestDueMs),
      };
    },

    async health() {
      const started = performance.now();
      try {
        await live().listQueues({ parent, pageSize: 1 }, { autoPaginate: false });
        return { ok: true, latencyMs: performance.now() - started };
      } catch (error) {
        return { ok: false, latencyMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
  return provider;
}

function splitHostPort(address: string): [string, number] {
  const match = /^(.*):(\d+)$/.exec(address);
  if (match === null) {
    throw new ConfigError(`Cloud Tasks \`emulatorHost\` must be host:port, got '${address}'.`, { details: { field: 'emulatorHost', value: address } });
  }
  return [match[1]!, Number(match[2])];
}
