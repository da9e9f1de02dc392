import { createHash } from 'node:crypto';
import type { protos } from '@google-cloud/tasks';
import type { Job } from '../../contract.js';

/**
 * Pure helpers of the Cloud Tasks provider: names, and the HTTP task a job becomes.
 *
 * A task's name is derived from the job id, so creating the same job twice is refused by Cloud Tasks
 * itself (ALREADY_EXISTS) — the native dedup. Cloud Tasks keeps a name reserved for a while after the
 * task ends (about an hour, up to 9 days), which is a longer dedup window than the contract asks.
 */

/** Cloud Tasks queue ids allow letters, digits and hyphens, up to 100 characters. */
export function queueIdOf(prefix: string, queue: string): string {
  const id = `${prefix}-${queue}`.replace(/[^A-Za-z0-9-]/g, '-');
  return id.length <= 100 ? id : `${id.slice(0, 83)}-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

/** Task ids allow letters, digits, '-' and '_', up to 500 characters; other ids are hashed (stable). */
export function taskIdOf(jobId: string, suffix = ''): string {
  const id = `${jobId}${suffix}`;
  return /^[A-Za-z0-9_-]{1,400}$/.test(id) ? id : `h_${createHash('sha256').update(id).digest('hex')}`;
}

export interface TaskTarget {
  url: string;
  serviceAccountEmail?: string;
  /** Sent as X-Kairos-Token for the receiver to check. */
  secret?: string;
  /** How long Cloud Tasks waits for the receiver's answer, ms (15 s .. 30 min). */
  dispatchDeadlineMs: number;
}

/** The HTTP task for a job: POST of the job as JSON to the receiver, due at `job.runAtMs`. */
export function taskFor(queuePath: string, job: Job, target: TaskTarget, nameSuffix = ''): protos.google.cloud.tasks.v2.ITask {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (target.secret !== undefined) headers['X-Kairos-Token'] = target.secret;
  return {
    name: `${queuePath}/tasks/${taskIdOf(job.id, nameSuffix)}`,
    scheduleTime: { seconds: Math.floor(job.runAtMs / 1_000), nanos: (job.runAtMs % 1_000) * 1_000_000 },
    dispatchDeadline: { seconds: Math.floor(target.dispatchDeadlineMs / 1_000) },
    httpRequest: {
      httpMethod: 'POST',
      url: target.url,
      headers,
      body: Buffer.from(JSON.stringify(job), 'utf8'),
      ...(target.serviceAccountEmail === undefined ? {} : { oidcToken: { serviceAccountEmail: target.serviceAccountEmail, audience: target.url } }),
    },
  };
}

/** gRPC status ALREADY_EXISTS: a task of that name exists or existed recently. */
export function isAlreadyExists(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 6;
}

/** gRPC status NOT_FOUND. */
export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 5;
}
