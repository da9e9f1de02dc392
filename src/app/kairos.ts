import { createAlerter, type Alerter } from '../alerts/alerter.js';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { createDeployments, type Deployments } from '../engine/deployments/deployments.js';
import { createEventBus, type EmitResult, type EventBus, type MetricResult } from '../engine/events/event-bus.js';
import { createEngine, type AnyDefinition, type Engine } from '../engine/runtime/engine.js';
import { createScheduler, type DeploymentScheduler } from '../engine/scheduler/scheduler.js';
import { ConfigError, toError } from '../errors.js';
import { createLocalScheduler, type LocalScheduler } from '../local/scheduler.js';
import { createMetrics, type KairosMetrics } from '../metrics/metrics.js';
import type { QueueClient } from '../queue/client.js';
import type { JobHandler } from '../queue/handlers.js';
import { kairosRouteModules } from '../server/api.js';
import { hasBuiltUi, serveUi } from '../server/routes/static-ui.js';
import { createServer, type KairosServer } from '../server/server.js';
import { openPostgresStore } from '../store/postgres/open.js';
import { openSqliteStore } from '../store/sqlite/open.js';
import type { Store } from '../store/store.js';
import { LaneActivity } from './activity.js';
import { LiveEventHub } from './live-events.js';
import { checkOptions, checkPositiveInt, checkQueueNames, isPostgresUrl, type KairosOptions } from './options.js';
import { createOverview } from './overview.js';
import { QueueLane } from './queue-lane.js';
import { createRunPager } from './run-listing.js';
import { wireDeployments } from './wire-deployments.js';
import { wireEngine } from './wire-engine.js';
import { wireLocal } from './wire-local.js';
import type { WireContext } from './wiring.js';
import { createWorkersView } from './workers.js';

/** Default time `stop()` gives running work before aborting it. */
export const DEFAULT_APP_STOP_DEADLINE_MS = 10_000;

/**
 * One Kairos application: every lane on one store, with one metrics registry, one alert channel, one
 * live event stream and (optionally) one HTTP API. It wires; the lanes do the work:
 *
 * - `local` — the in-process scheduler (`kairos.local.every('30s', fn)`),
 * - `queue` — the client on the configured provider, and a worker over the served queues,
 * - `engine` — flows and workflows; `deployments` + `scheduler` fire them (leader-elected on PostgreSQL),
 * - `bus` — events and metric samples in, runs out.
 *
 * Lifecycle: `createKairos` opens the store and builds everything (nothing runs yet: register handlers,
 * flows, jobs and deployments); `start()` starts the lanes and the HTTP server; `stop()` stops them in
 * reverse order within a deadline and closes what it opened.
 */
export class Kairos {
  readonly local: LocalScheduler;
  readonly engine: Engine;
  readonly deployments: Deployments;
  readonly scheduler: DeploymentScheduler | null;
  readonly bus: EventBus;
  readonly metrics: KairosMetrics;
  readonly alerter: Alerter | null;
  /** Every lane's events as one stream (what /api/events/stream sends). */
  readonly live: LiveEventHub;
  readonly activity: LaneActivity;
  /** The HTTP server, when `http` was given. */
  readonly server: KairosServer | null;
  private readonly unwire: Array<() => void> = [];
  private state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created';
  private urlValue: string | null = null;
  /** When this app's in-memory counters (the overview's 'process' numbers) began. */
  private readonly createdMs: number;

  /** @internal use createKairos */
  constructor(
    readonly store: Store,
    private readonly ownsStore: boolean,
    readonly queueLane: QueueLane,
    private readonly options: KairosOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.createdMs = clock.now();
    this.live = new LiveEventHub();
    this.activity = new LaneActivity(clock);
    this.metrics = options.metrics ?? createMetrics({ clock, logger });
    try {
      this.alerter =
        options.alerts === undefined
          ? null
          : createAlerter({ clock, logger, ...options.alerts, baseUrl: options.alerts.baseUrl ?? (() => this.urlValue ?? 'http://127.0.0.1') });
      this.local = createLocalScheduler({ store, clock, logger, ...options.local });
      const engineOptions = options.engine ?? {};
      this.engine = createEngine({
        store,
        clock,
        logger,
        definitions: options.definitions ?? [],
        concurrency: checkPositiveInt('engine.concurrency', engineOptions.concurrency, 10),
        leaseMs: checkPositiveInt('engine.leaseMs', engineOptions.leaseMs, 30_000),
        pollIntervalMs: checkPositiveInt('engine.pollIntervalMs', engineOptions.pollIntervalMs, 1_000),
        queues: checkQueueNames('engine.queues', engineOptions.queues, ['default']),
      });
      this.deployments = createDeployments({ store, launcher: this.engine, clock, logger });
      this.scheduler =
        options.scheduler?.enabled === false
          ? null
          : createScheduler({ deployments: this.deployments, leaderPollMs: options.scheduler?.leaderPollMs, pollMs: options.scheduler?.pollMs });
      this.bus = createEventBus({
        deployments: this.deployments,
        deliverEvent: async (name, payload) => {
          const delivered = await this.engine.deliverEvent(name, payload);
          this.live.publish('event.emitted', { name, payload, delivered });
          return delivered;
        },
      });
      this.server = options.http === undefined ? null : this.buildServer();
    } catch (error) {
      // A bad option found here (alert destinations, no tokens on a public host, a bad port…) must not
      // leave the metrics' event-loop sampler running: nothing else holds this half-built app to stop it.
      if (options.metrics === undefined) this.metrics.close();
      throw error;
    }
  }

  /** The base URL the API listens on, once started with `http`. */
  get url(): string | null {
    return this.urlValue;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** The queue client: `enqueueWorkflow(key, { queueProvider, context, metadata })`, `queue(name).add(...)`. */
  get queue(): QueueClient {
    return this.queueLane.client;
  }

  /** Registers a queue job handler by key; do it before `start()` so no job finds its key missing. */
  handle(key: string, handler: JobHandler): this {
    this.queueLane.handlers.register(key, handler);
    return this;
  }

  /** Registers flows and workflows with the engine. */
  register(...definitions: AnyDefinition[]): this {
    this.engine.register(...definitions);
    return this;
  }

  /** Emits an event: starts matching deployments and wakes workflows waiting for it. */
  emit(name: string, payload?: unknown): Promise<EmitResult> {
    return this.bus.emit(name, payload);
  }

  /** Feeds a metric sample to the metric-threshold triggers (and the live stream). */
  async recordMetric(metric: string, value: number, labels: Record<string, string> = {}): Promise<MetricResult> {
    this.live.publish('metric.sample', { metric, value, labels, atMs: this.clock.now() });
    return this.bus.recordMetric(metric, value, labels);
  }

  /** Starts every lane, then the HTTP server. On a failure, what started is stopped again and the error thrown. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new ConfigError(`This Kairos app is ${this.state}; create a new one to start again.`);
    this.state = 'starting';
    const ctx: WireContext = { metrics: this.metrics, alerter: this.alerter, live: this.live, activity: this.activity, logger: this.logger };
    try {
      this.unwire.push(wireLocal(this.local, ctx), wireEngine(this.engine, ctx), wireDeployments(this.deployments, this.scheduler, ctx));
      await this.queueLane.start(ctx, this.metrics);
      await this.local.start();
      if (this.options.engine?.workers !== false) await this.engine.start();
      this.scheduler?.start();
      if (this.server !== null) this.urlValue = await this.server.listen();
      this.state = 'running';
      this.live.publish('app.started', { url: this.urlValue, leader: this.scheduler?.isLeader ?? false });
    } catch (error) {
      this.state = 'running';
      await this.stop({ deadlineMs: 1_000 }).catch((stopError: unknown) => this.logger.warn({ err: toError(stopError) }, 'cleanup after a failed start failed'));
      throw error;
    }
  }

  /**
   * Stops the HTTP server (open streams end), the scheduler, then the workers and the local lane —
   * running work gets until `deadlineMs` (default 10000) and is then aborted and handed back — and
   * closes what createKairos opened. Idempotent.
   */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const wasCreated = this.state === 'created';
    this.state = 'stopping';
    const deadlineMs = options.deadlineMs ?? DEFAULT_APP_STOP_DEADLINE_MS;
    const endMs = Date.now() + deadlineMs;
    const left = (): number => Math.max(0, endMs - Date.now());
    const step = async (what: string, work: () => unknown): Promise<void> => {
      try {
        await work();
      } catch (error) {
        this.logger.warn({ err: toError(error), what }, 'stopping a component failed');
      }
    };
    this.live.close();
    if (this.server !== null) await step('http', () => this.server?.close());
    if (!wasCreated) {
      await step('scheduler', () => this.scheduler?.stop());
      // The lanes stop side by side: each gets the whole remaining deadline.
      await Promise.all([
        step('queue', () => this.queueLane.stop(left())),
        step('engine', () => this.engine.stop({ deadlineMs: left() })),
        step('local', () => this.local.stop({ deadlineMs: left() })),
      ]);
    } else {
      await step('queue', () => this.queueLane.stop(0));
    }
    for (const off of this.unwire.splice(0)) off();
    this.deployments.close();
    if (this.alerter !== null) await step('alerts', () => this.alerter?.close());
    if (this.options.metrics === undefined) this.metrics.close();
    if (this.ownsStore) await step('store', () => this.store.close());
    this.state = 'stopped';
  }

  private buildServer(): KairosServer {
    const http = this.options.http;
    if (http === undefined) throw new ConfigError('http: not configured.');
    const routes = kairosRouteModules({
      metrics: this.metrics,
      events: this.live.source,
      eventStream: http.eventStream,
      lanes: {
        local: this.local,
        engine: this.engine,
        deployments: this.deployments,
        bus: this.bus,
        queue: this.queueLane,
        runs: createRunPager(this.store),
        overview: createOverview({
          store: this.store,
          activity: this.activity,
          local: this.local,
          engine: this.engine,
          queue: this.queueLane,
          scheduler: this.scheduler,
          nowMs: () => this.clock.now(),
          processStartedMs: this.createdMs,
        }),
        workers: createWorkersView({ store: this.store, engine: this.engine, queueWorkers: () => this.queueLane.workerEntries() }),
      },
      healthChecks: {
        store: async () => {
          const startedMs = performance.now();
          if (this.store.dialect === 'sqlite') this.store.db.prepare('SELECT 1').get();
          else await this.store.pool.query('SELECT 1');
          return { ok: true, latencyMs: performance.now() - startedMs };
        },
        [`queue:${this.queueLane.provider.name}`]: () => this.queueLane.provider.health(),
      },
    });
    const server = createServer({
      auth: http.auth,
      host: http.host,
      port: http.port,
      logger: http.logger ?? this.logger,
      routes,
      secrets: alertSecrets(this.options.alerts),
    });
    if (http.uiDir !== undefined && hasBuiltUi(http.uiDir)) serveUi(server.app, http.uiDir);
    return server;
  }
}

/** What the HTTP layer must redact because the alert channel knows it: webhook URLs, their header values, extra secrets. */
function alertSecrets(alerts: KairosOptions['alerts']): string[] {
  if (alerts === undefined) return [];
  const webhooks = alerts.webhooks ?? [];
  return [alerts.slack?.webhookUrl ?? '', ...webhooks.map((w) => w.url), ...webhooks.flatMap((w) => Object.values(w.headers ?? {})), ...(alerts.secrets ?? [])].filter(
    (secret) => secret !== '',
  );
}

/**
 * Opens the store (SQLite path or PostgreSQL URL, migrations included) and composes every lane.
 * Nothing runs until `start()`. Bad options throw a ConfigError naming the field, with nothing left open.
 */
export async function createKairos(options: KairosOptions): Promise<Kairos> {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  let store: Store;
  let ownsStore = true;
  if (typeof options.store !== 'string') {
    store = options.store;
    ownsStore = false;
  } else if (isPostgresUrl(options.store)) {
    store = await openPostgresStore({ connectionString: options.store, schema: options.schema ?? 'kairos' });
  } else {
    store = openSqliteStore({ path: options.store });
  }
  let queueLane: QueueLane | null = null;
  try {
    queueLane = await QueueLane.create(store, options.queue ?? {}, clock, logger, options.handlers ?? {});
    return new Kairos(store, ownsStore, queueLane, options, clock, logger);
  } catch (error) {
    await queueLane?.stop(0).catch(() => undefined);
    if (ownsStore) await store.close();
    throw error;
  }
}
