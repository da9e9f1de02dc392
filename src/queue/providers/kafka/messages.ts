import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { Job } from '../../contract.js';

/**
 * How a job travels in a Kafka record: the job as JSON in the value, its id as the key (so one job's
 * re-sends land on one partition), and the fields that change between attempts in headers — a retry
 * is a new record, and Kafka cannot count deliveries, so the attempt must travel with it.
 */
export const HDR_ATTEMPT = 'kairos-attempt';
export const HDR_LAST_ERROR = 'kairos-last-error';

export function encodeJob(job: Job): Message {
  const headers: IHeaders = { [HDR_ATTEMPT]: String(job.attempt) };
  if (job.lastError !== null) headers[HDR_LAST_ERROR] = job.lastError;
  return { key: job.id, value: JSON.stringify(job), headers };
}

function header(headers: IHeaders | undefined, name: string): string | null {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/**
 * Reads a record back. `attempt` is the attempts made before this record was written (the header);
 * the provider adds the deliveries it has seen itself. Returns null for a record that is not a Kairos
 * job (no value, or not JSON), which the provider skips rather than crash on.
 */
export function decodeJob(queue: string, message: KafkaMessage): { job: Job; baseAttempt: number } | null {
  if (message.value === null) return null;
  let stored: Job;
  try {
    stored = JSON.parse(message.value.toString('utf8')) as Job;
  } catch {
    return null;
  }
  if (typeof stored !== 'object' || stored === null || typeof stored.id !== 'string') return null;
  const baseAttempt = Number(header(message.headers, HDR_ATTEMPT) ?? '0');
  return {
    job: { ...stored, queue, lastError: header(message.headers, HDR_LAST_ERROR) },
    baseAttempt: Number.isFinite(baseAttempt) ? baseAttempt : 0,
  };
}
