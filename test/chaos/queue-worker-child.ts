/**
 * The worker process the crash test kills with SIGKILL. Configuration comes in KAIROS_CHAOS_CONFIG.
 *
 * For each job it (1) reports its in-flight count on stdout with a synchronous write, (2) appends
 * the job's index to the results file, (3) returns so the worker acks. Because (1) happens before (2)
 * and the count drops only after the ack, the last count the parent read before the kill bounds the
 * number of recorded-but-unacked jobs: the duplicates that kill can cause.
 *
 * The results file is written with appendFileSync (one write(2) per line): a SIGKILL cannot lose data
 * already handed to the kernel, so no fsync is needed for this test (fsync guards against power loss).
 */
import { appendFileSync } from 'node:fs';
import { openQueueConnection, type QueueConnectionSettings } from '../../src/queue/providers/from-config.js';
import { createHeldJobStore } from '../../src/queue/held/index.js';
import { createQueueWorker } from '../../src/queue/worker.js';

interface ChildConfig {
  connection: QueueConnectionSettings;
  queue: string;
  resultsFile: string;
  concurrency: number;
  leaseMs: number;
}

const config = JSON.parse(process.env.KAIROS_CHAOS_CONFIG ?? '{}') as ChildConfig;
const connection = await openQueueConnection(config.connection);
let inFlight = 0;
// process.stdout.write is synchronous for pipes on Linux (Node docs, "A note on process I/O"); fs.writeSync(1)
// on the non-blocking pipe can fail with EAGAIN under load.
const report = () => process.stdout.write(`inflight ${inFlight}\n`);

const worker = createQueueWorker({
  provider: connection.provider,
  queue: config.queue,
  concurrency: config.concurrency,
  leaseMs: config.leaseMs,
  pollWaitMs: 500,
  // Brokers that cannot delay hold retries in the Kairos store.
  ...(connection.provider.capabilities.nativeDelay ? {} : { heldJobs: createHeldJobStore(connection.store, { provider: connection.provider.name }) }),
  handlers: {
    'chaos.record': async (payload: { index: number }) => {
      inFlight += 1;
      report();
      appendFileSync(config.resultsFile, `${payload.index}\n`);
      // A little work after recording, so kills land between "done" and "acked" — the window where
      // at-least-once delivery shows up as duplicates.
      await new Promise((resolve) => setTimeout(resolve, 2));
    },
  },
});
worker.events.on('job_completed', () => {
  inFlight -= 1;
  report();
});
worker.events.on('job_failed', (e) => {
  // Not expected in this test; counted out of in-flight and reported so the parent can see it.
  inFlight -= 1;
  report();
  process.stderr.write(`job_failed ${e.job.id}: ${e.error.message}\n`);
});
worker.events.on('worker_error', (e) => process.stderr.write(`worker_error ${e.operation}: ${e.error.message}\n`));
await worker.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .stop({ timeoutMs: 5_000 })
    .then(() => connection.close())
    .then(() => process.exit(0));
});
