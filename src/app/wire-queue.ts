import type { QueueProvider } from '../queue/contract.js';
import type { QueueWorker } from '../queue/worker.js';
import { alert, errorData, safely, type WireContext } from './wiring.js';

/** A job a worker of this process is running now, for /api/workers. */
export interface InFlightJob {
  jobId: string;
  queue: string;
  name: string;
  attempt: number;
  startedAtMs: number;
}

/**
 * One queue worker's events → metrics (runs, retries, dead letters), alerts (dead letters), the live
 * stream and the overview; also keeps the worker's in-flight jobs, which the worker itself does not
 * expose.
 */
export function wireQueueWorker(worker: QueueWorker, provider: QueueProvider, ctx: WireContext, inFlight: Map<string, InFlightJob>, nowMs: () => number): () => void {
  const { metrics, live, activity } = ctx;
  const key = (queue: string, id: string): string => `${queue}\u0000${id}`;
  const offs = [
    worker.events.on('job_started', (e) => {
      inFlight.set(key(e.queue, e.job.id), { jobId: e.job.id, queue: e.queue, name: e.job.name, attempt: e.job.attempt, startedAtMs: nowMs() });
      live.publish('queue.job_started', { provider: provider.name, queue: e.queue, jobId: e.job.id, name: e.job.name, attempt: e.job.attempt });
    }),
    worker.events.on('job_completed', (e) => {
      inFlight.delete(key(e.queue, e.job.id));
      safely(ctx, 'queue completed', () => metrics.runFinished({ lane: 'queue', state: 'Completed', durationMs: e.durationMs }));
      activity.record('queue', 'Completed');
      live.publish('queue.job_completed', { provider: provider.name, queue: e.queue, jobId: e.job.id, name: e.job.name, attempt: e.job.attempt, durationMs: e.durationMs, result: e.result });
    }),
    worker.events.on('job_failed', (e) => {
      inFlight.delete(key(e.queue, e.job.id));
      if (e.willRetry) safely(ctx, 'queue retry', () => metrics.retry({ lane: 'queue' }));
    }),
    worker.events.on('job_retried', (e) => {
      activity.record('queue', 'Retrying');
      live.publish('queue.job_retried', { provider: provider.name, queue: e.queue, jobId: e.job.id, name: e.job.name, attempt: e.job.attempt, delayMs: e.delayMs, error: errorData(e.error) });
    }),
    worker.events.on('job_dead', (e) => {
      inFlight.delete(key(e.queue, e.job.id));
      safely(ctx, 'queue dead', () => {
        metrics.runFinished({ lane: 'queue', state: 'Failed' });
        metrics.deadLetter({ provider: provider.name, queue: e.queue });
      });
      activity.record('queue', 'Failed');
      activity.record('queue', 'dead');
      live.publish('queue.job_dead', { provider: provider.name, queue: e.queue, jobId: e.job.id, name: e.job.name, attempt: e.job.attempt, error: errorData(e.error) });
      alert(ctx, {
        kind: 'dead_letter',
        lane: 'queue',
        subject: e.job.name,
        error: e.error,
        attempt: e.job.attempt,
        details: { provider: provider.name, queue: e.queue, jobId: e.job.id },
      });
    }),
    worker.events.on('worker_error', (e) => {
      live.publish('queue.worker_error', { provider: provider.name, queue: e.queue, operation: e.operation, error: errorData(e.error) });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
