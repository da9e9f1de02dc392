import { newJobId } from '../../job-id.js';
import { ConfigError } from '../../../errors.js';
import { DEFAULT_MAX_ATTEMPTS, type Job, type NewJob } from '../../contract.js';

/**
 * Helpers every broker provider shares: turning a `NewJob` into the stored `Job`, and the parts of a
 * job that never change after enqueue (so a provider can store them once as JSON and keep only the
 * mutable fields — attempt, last error, run time — beside them).
 */

/** The immutable part of a job, stored once as JSON. */
export type JobBody = Omit<Job, 'attempt' | 'lastError' | 'runAtMs'>;

export function toJob(newJob: NewJob, nowMs: number): Job {
  const priority = newJob.priority ?? 0;
  if (!Number.isInteger(priority) || priority < -100 || priority > 100) {
    throw new ConfigError(`Job priority must be an integer from -100 to 100, got ${String(priority)}.`, {
      details: { field: 'priority', value: priority },
    });
  }
  return {
    id: newJob.id ?? newJobId(),
    queue: newJob.queue,
    name: newJob.name,
    // JSON has no undefined: a job without a payload is delivered with null, as the SQL stores do.
    payload: newJob.payload ?? null,
    dedupKey: newJob.dedupKey ?? null,
    priority,
    runAtMs: newJob.runAtMs ?? nowMs,
    attempt: newJob.attempt ?? 0,
    maxAttempts: newJob.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoff: newJob.backoff ?? null,
    timeoutMs: newJob.timeoutMs ?? null,
    metadata: newJob.metadata ?? {},
    createdAtMs: nowMs,
    lastError: newJob.lastError ?? null,
  };
}

/** How far ahead (ms) a job may be and still count as due on a broker that cannot delay. */
export const DUE_TOLERANCE_MS = 1_000;

/**
 * The jobs of an enqueue on a broker that cannot delay a first delivery (NATS, RabbitMQ, Kafka):
 * each must be due now. The Kairos queue client holds later jobs in its store and sends them when
 * due; a later job reaching the provider directly is refused, not sent early.
 */
export function dueJobs(brokerName: string, newJobs: readonly NewJob[], nowMs: number): Job[] {
  const jobs = newJobs.map((j) => toJob(j, nowMs));
  for (const job of jobs) {
    if (job.runAtMs > nowMs + DUE_TOLERANCE_MS) {
      throw new ConfigError(
        `The ${brokerName} provider cannot delay a job (job ${job.id} runs at ${new Date(job.runAtMs).toISOString()}): enqueue through the Kairos queue client, which holds delayed jobs until due.`,
        { details: { field: 'runAtMs', value: job.runAtMs } },
      );
    }
  }
  return jobs;
}

export function bodyOf(job: Job): JobBody {
  return {
    id: job.id,
    queue: job.queue,
    name: job.name,
    payload: job.payload,
    dedupKey: job.dedupKey,
    priority: job.priority,
    maxAttempts: job.maxAttempts,
    backoff: job.backoff,
    timeoutMs: job.timeoutMs,
    metadata: job.metadata,
    createdAtMs: job.createdAtMs,
  };
}

export function fromBody(body: JobBody, mutable: { attempt: number; lastError: string | null; runAtMs: number }): Job {
  return { ...body, ...mutable };
}

/** Groups items by a key, keeping each group's original order and remembering original positions. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, { item: T; index: number }[]> {
  const groups = new Map<string, { item: T; index: number }[]>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push({ item, index });
  });
  return groups;
}
