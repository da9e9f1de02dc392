import { hostname } from 'node:os';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { MetricsRecorder } from '../metrics/metrics.js';
import { createQueueClient, type QueueClient } from '../queue/client.js';
import type { QueueProvider } from '../queue/contract.js';
import { createHandlerRegistry, type HandlerRegistry, type JobHandler } from '../queue/handlers.js';
import { createHeldJobStore } from '../queue/held/index.js';
import { createProvider } from '../queue/providers/index.js';
import { createQueueWorker, type QueueWorker } from '../queue/worker.js';
import type { QueueLaneView } from '../server/routes/lanes.js';
import type { Store } from '../store/store.js';
import { checkPositiveInt, checkQueueNames, type KairosQueueOptions } from './options.js';
import { wireQueueWorker, type InFlightJob } from './wire-queue.js';
import type { QueueWorkerEntry } from './workers.js';
import type { WireContext } from './wiring.js';

/**
 * The queue lane of one app: its provider (created by name, or given), the client that enqueues, the
 * handler registry, and — once started — one worker over every served queue, wired to metrics,
 * alerts and the live stream.
 */
export class QueueLane implements QueueLaneView {
  readonly handlers: HandlerRegistry;
  readonly client: QueueClient;
  readonly queueNames: readonly string[];
  private worker: QueueWorker | null = null;
  private entry: QueueWorkerEntry | null = null;
  private readonly inFlight = new Map<string, InFlightJob>();
  private unwire: () => void = () => undefined;
  private removeStatsSource: () => void = () => undefined;

  private constructor(
    readonly provider: QueueProvider,
    private readonly ownsProvider: boolean,
    private readonly store: Store,
    private readonly options: KairosQueueOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
    handlers: Readonly<Record<string, JobHandler>>,
  ) {
    this.queueNames = checkQueueNames('queue.queues', options.queues, ['default']);
    this.handlers = createHandlerRegistry({ ...handlers });
    this.client = createQueueClient({ providers: provider, defaultQueue: this.queueNames[0], store, clock, logger });
  }

  static async create(store: Store, options: KairosQueueOptions, clock: Clock, logger: Logger, handlers: Readonly<Record<string, JobHandler>>): Promise<QueueLane> {
    const given = typeof options.provider === 'object' ? options.provider : null;
    const provider = given ?? (await createProvider(typeof options.provider === 'string' ? options.provider : store.dialect, { ...options.providerOptions, store }));
    return new QueueLane(provider, given === null, store, options, clock, logger, handlers);
  }

  queues(): ReadonlyArray<{ provider: QueueProvider; queue: string }> {
    return this.queueNames.map((queue) => ({ provider: this.provider, queue }));
  }

  workerEntries(): QueueWorkerEntry[] {
    return this.entry === null ? [] : [this.entry];
  }

  /** Jobs waiting, active, delayed and dead over every served queue (one stats() per queue). */
  async depth(): Promise<{ waiting: number; active: number; delayed: number; dead: number }> {
    const all = await Promise.all(this.queueNames.map((queue) => this.provider.stats(queue)));
    return all.reduce((sum, s) => ({ waiting: sum.waiting + s.waiting, active: sum.active + s.active, delayed: sum.delayed + s.delayed, dead: sum.dead + s.dead }), {
      waiting: 0,
      active: 0,
      delayed: 0,
      dead: 0,
    });
  }

  async start(ctx: WireContext, metrics: MetricsRecorder): Promise<void> {
    await this.provider.connect();
    for (const queue of this.queueNames) await this.provider.ensureQueue(queue);
    this.removeStatsSource = metrics.addQueueStatsSource({
      provider: this.provider.name,
      stats: () => Promise.all(this.queueNames.map((queue) => this.provider.stats(queue))),
    });
    if (this.options.workers === false) return;
    const concurrency = checkPositiveInt('queue.concurrency', this.options.concurrency, 4);
    const leaseMs = checkPositiveInt('queue.leaseMs', this.options.leaseMs, 30_000);
    const worker = createQueueWorker({
      provider: this.provider,
      queue: this.queueNames,
      handlers: this.handlers,
      concurrency,
      leaseMs,
      pollWaitMs: this.options.pollWaitMs ?? 1_000,
      clock: this.clock,
      logger: this.logger,
      ...(this.provider.capabilities.nativeDelay ? {} : { heldJobs: createHeldJobStore(this.store, { provider: this.provider.name, clock: this.clock }) }),
    });
    this.unwire = wireQueueWorker(worker, this.provider, ctx, this.inFlight, () => this.clock.now());
    this.worker = worker;
    this.entry = {
      id: `${hostname()}:${process.pid}:queue:${this.provider.name}`,
      provider: this.provider,
      queues: this.queueNames,
      concurrency,
      leaseMs,
      isRunning: () => worker.isRunning,
      inFlight: this.inFlight,
    };
    await worker.start();
  }

  /** Stops the worker (in-flight jobs get `timeoutMs`, then go back to the queue), the client, and an owned provider. */
  async stop(timeoutMs: number): Promise<void> {
    await this.worker?.stop({ timeoutMs });
    this.unwire();
    this.removeStatsSource();
    await this.client.close();
    if (this.ownsProvider) await this.provider.close();
  }
}
