/**
 * graphile-worker's enqueue → task-start latency, measured as the Kairos harness measures its own
 * (`kairosLatency`): a runner with concurrency 8 started first, then jobs added one at a time.
 */
import { Logger, run, type WorkerUtils } from 'graphile-worker';
import { sleep } from './harness.js';

/** graphile-worker logs every job by default; console I/O would dominate a no-op benchmark. */
export const quietGraphile = new Logger(() => () => undefined);

/** Latency samples (ms) of `jobs` jobs added `gapMs` apart through `utils` to a runner on `schema`. */
export async function graphileLatency(url: string, schema: string, utils: WorkerUtils, jobs: number, gapMs: number): Promise<number[]> {
  const samples: number[] = [];
  const sentAt = new Map<number, number>();
  const runner = await run({
    connectionString: url,
    schema,
    concurrency: 8,
    noHandleSignals: true,
    pollInterval: 1_000,
    logger: quietGraphile,
    taskList: {
      ping: (payload) => {
        samples.push(performance.now() - (sentAt.get((payload as { i: number }).i) ?? Number.NaN));
        return Promise.resolve();
      },
    },
  });
  for (let i = 0; i < jobs; i += 1) {
    sentAt.set(i, performance.now());
    await utils.addJob('ping', { i });
    await sleep(gapMs);
  }
  const deadline = Date.now() + 10_000;
  while (samples.length < jobs && Date.now() < deadline) await sleep(20);
  await runner.stop();
  return samples;
}
