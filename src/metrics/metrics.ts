import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { Lane, RunState } from '../core/states.js';
import { ConfigError, InvalidParametersError, toError } from '../errors.js';
import type { QueueStats } from '../queue/contract.js';

/**
 * The Kairos metric set on prom-client. Every name carries the `kairos_` prefix and its unit; label
 * values are checked against closed sets (lanes, run states) so that a typo in a caller cannot blow
 * up the series count of a production Prometheus.
 */

/** Seconds; durations of runs span milliseconds (local jobs) to hours (flows). */
export const RUN_DURATION_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 10800,
] as const;

/** Seconds; fire lateness of a healthy local lane is sub-millisecond, hence buckets down to 0.5 ms. */
export const FIRE_LATENESS_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'dead'] as const;
const LANES: readonly string[] = Object.values(Lane);
const RUN_STATES: readonly string[] = Object.values(RunState);

/** Where queue depth comes from: one provider's `stats()` for the queues it serves. */
export interface QueueStatsSource {
  /** Provider name, the `provider` label (`redis`, `postgres`, …). */
  provider: string;
  /** Returns current stats of every queue this source covers; called on each scrape. */
  stats(): Promise<readonly QueueStats[]> | readonly QueueStats[];
}

/**
 * What the lanes call. The lead wires lane events to these methods; each is cheap (a counter or
 * histogram update) and synchronous.
 */
export interface MetricsRecorder {
  /** A run reached a terminal state; `durationMs` is omitted for runs that never started (Missed, Skipped). */
  runFinished(event: { lane: Lane; state: RunState; durationMs?: number }): void;
  /** A timer fired `lateMs` after its scheduled instant (negative values count as 0). */
  fireLate(event: { lane: Lane; lateMs: number }): void;
  /** A fire was missed (past its misfire grace time). */
  misfire(event: { lane: Lane }): void;
  /** A job broke its lane's checklist (a local job ran past its budget); `suggestedLane` would suit it. */
  misfit(event: { suggestedLane: Lane }): void;
  /** A failed attempt will be retried. */
  retry(event: { lane: Lane }): void;
  /** A queue job was moved to the dead-letter queue. */
  deadLetter(event: { provider: string; queue: string }): void;
  /** Whether this process currently leads scheduling. */
  setLeader(isLeader: boolean): void;
  /** Adds a source polled on every scrape for `kairos_queue_depth`; returns a function that removes it. */
  addQueueStatsSource(source: QueueStatsSource): () => void;
}

export interface MetricsOptions {
  /** Registry to register into. Default: a new Registry (no global state). */
  registry?: Registry;
  /** Also collect prom-client's process and Node.js metrics (`process_*`, `nodejs_*`). Default true. */
  defaultMetrics?: boolean;
  /** A `stats()` call slower than this is abandoned for the scrape (counted as an error). Default 2000. */
  statsTimeoutMs?: number;
  /** Resolution of the event-loop delay sampler behind `kairos_event_loop_lag_seconds`. Default 10. */
  eventLoopResolutionMs?: number;
  /** Clock for the stats timeout. Default systemClock. */
  clock?: Clock;
  /** Where failing stats sources are reported. Default silent. */
  logger?: Logger;
}

export interface KairosMetrics extends MetricsRecorder {
  readonly registry: Registry;
  /** The Prometheus exposition content type, for the `/metrics` response. */
  readonly contentType: string;
  /** The current exposition text (runs the collect callbacks, e.g. queue stats). */
  render(): Promise<string>;
  /**
   * Stops the event-loop sampler and removes the Kairos metrics from the registry (every metric, when
   * the registry was created here).
   */
  close(): void;
}

function checkLabel(field: string, value: unknown, allowed: readonly string[]): string {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new InvalidParametersError(`${field}: '${String(value)}' is not one of ${allowed.join(' | ')}.`, {
      details: { field, value, allowed },
    });
  }
  return value;
}

function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new InvalidParametersError(`${field}: expected a non-empty string of at most 200 characters.`, { details: { field } });
  }
  return value;
}

function checkFinite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidParametersError(`${field}: expected a finite number of milliseconds, got ${String(value)}.`, {
      details: { field, value },
    });
  }
  return value;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(() => reject(new Error(`stats() did not answer within ${timeoutMs} ms`)), timeoutMs);
    work.then(
      (value) => {
        clock.clearTimer(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimer(timer);
        reject(toError(error));
      },
    );
  });
}

/**
 * Creates the Kairos metrics on a registry of their own (or the one given). Throws ConfigError when
 * the registry already holds a metric of the same name (two `createMetrics` on one registry).
 */
export function createMetrics(options: MetricsOptions = {}): KairosMetrics {
  const ownsRegistry = options.registry === undefined;
  const registry = options.registry ?? new Registry();
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const statsTimeoutMs = options.statsTimeoutMs ?? 2_000;
  const resolutionMs = options.eventLoopResolutionMs ?? 10;
  if (!Number.isInteger(statsTimeoutMs) || statsTimeoutMs <= 0) {
    throw new ConfigError('statsTimeoutMs: expected a positive integer of milliseconds.', { details: { field: 'statsTimeoutMs' } });
  }
  if (!Number.isInteger(resolutionMs) || resolutionMs < 1) {
    throw new ConfigError('eventLoopResolutionMs: expected an integer of at least 1.', { details: { field: 'eventLoopResolutionMs' } });
  }

  const sources = new Set<QueueStatsSource>();
  const registered: string[] = [];
  let eventLoop: IntervalHistogram | null = null;

  try {
    const registers = [registry];
    const runs = new Counter({
      name: 'kairos_runs_total',
      help: 'Runs that reached a terminal state, by lane and state.',
      labelNames: ['lane', 'state'] as const,
      registers,
    });
    registered.push('kairos_runs_total');
    const runDuration = new Histogram({
      name: 'kairos_run_duration_seconds',
      help: 'Wall time of finished runs, from start to terminal state.',
      labelNames: ['lane'] as const,
      buckets: [...RUN_DURATION_BUCKETS_SECONDS],
      registers,
    });
    registered.push('kairos_run_duration_seconds');
    const fireLateness = new Histogram({
      name: 'kairos_fire_lateness_seconds',
      help: 'How long after its scheduled instant each fire started.',
      labelNames: ['lane'] as const,
      buckets: [...FIRE_LATENESS_BUCKETS_SECONDS],
      registers,
    });
    registered.push('kairos_fire_lateness_seconds');
    const misfires = new Counter({
      name: 'kairos_misfires_total',
      help: 'Fires missed beyond their misfire grace time.',
      labelNames: ['lane'] as const,
      registers,
    });
    registered.push('kairos_misfires_total');
    const misfits = new Counter({
      name: 'kairos_misfits_total',
      help: "Jobs that broke their lane's checklist, by the lane that would suit them.",
      labelNames: ['suggested_lane'] as const,
      registers,
    });
    registered.push('kairos_misfits_total');
    const retries = new Counter({
      name: 'kairos_retries_total',
      help: 'Failed attempts that were scheduled for a retry.',
      labelNames: ['lane'] as const,
      registers,
    });
    registered.push('kairos_retries_total');
    const deadLetters = new Counter({
      name: 'kairos_dead_letters_total',
      help: 'Queue jobs moved to the dead-letter queue.',
      labelNames: ['provider', 'queue'] as const,
      registers,
    });
    registered.push('kairos_dead_letters_total');
    const leader = new Gauge({
      name: 'kairos_scheduler_leader',
      help: '1 when this process leads scheduling, else 0.',
      registers,
    });
    registered.push('kairos_scheduler_leader');
    leader.set(0);
    // Counters over closed label sets start at 0, so a panel or an `increase(...) > 0` rule reads "none
    // yet" instead of "no data" (Prometheus' own advice: initialise the series you know of).
    for (const lane of LANES) {
      misfires.inc({ lane }, 0);
      retries.inc({ lane }, 0);
      if (lane !== 'local') misfits.inc({ suggested_lane: lane }, 0);
    }
    // The queue gauges and the error counter are filled by one pass over the sources per scrape: prom-client runs the
    // collect callbacks of a scrape concurrently, so they share the pass in flight.
    let refreshInFlight: Promise<void> | null = null;
    const refreshQueueStats = (): Promise<void> => {
      refreshInFlight ??= readQueueStats().finally(() => {
        refreshInFlight = null;
      });
      return refreshInFlight;
    };
    const statsErrors = new Counter({
      name: 'kairos_queue_stats_errors_total',
      help: 'Queue stats sources that failed or timed out during a scrape.',
      labelNames: ['provider'] as const,
      registers,
      collect: refreshQueueStats,
    });
    registered.push('kairos_queue_stats_errors_total');
    const queueDepth = new Gauge({
      name: 'kairos_queue_depth',
      help: 'Jobs per queue and state (waiting, active = in flight, delayed, dead), read from the providers on each scrape.',
      labelNames: ['provider', 'queue', 'state'] as const,
      registers,
      collect: refreshQueueStats,
    });
    registered.push('kairos_queue_depth');
    const oldestWaiting = new Gauge({
      name: 'kairos_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest waiting job, where the provider can tell.',
      labelNames: ['provider', 'queue'] as const,
      registers,
      collect: refreshQueueStats,
    });
    registered.push('kairos_queue_oldest_waiting_age_seconds');
    const readQueueStats = async (): Promise<void> => {
      const results = await Promise.all(
        [...sources].map(async (source) => {
          try {
            return { source, stats: await withTimeout(Promise.resolve().then(() => source.stats()), statsTimeoutMs, clock) };
          } catch (error) {
            statsErrors.inc({ provider: source.provider });
            logger.warn({ provider: source.provider, err: toError(error).message }, 'queue stats source failed during scrape');
            return { source, stats: [] };
          }
        }),
      );
      // Reset only now, with every answer in hand: a queue that disappeared must not keep its last
      // depth, and a scrape must never see the gauges half filled.
      queueDepth.reset();
      oldestWaiting.reset();
      for (const { source, stats: all } of results) {
        for (const stats of all) {
          // A queue seen here has a dead-letter counter from then on (0 until one happens), so that
          // `increase()` over the first dead letter is not lost to a series that appears at 1.
          deadLetters.inc({ provider: source.provider, queue: stats.queue }, 0);
          for (const state of QUEUE_STATES) {
            queueDepth.set({ provider: source.provider, queue: stats.queue, state }, stats[state]);
          }
          // Nothing waiting reads as age 0; a provider that cannot tell (null with jobs waiting) has no series.
          const oldestMs = stats.oldestWaitingAgeMs ?? (stats.waiting === 0 ? 0 : null);
          if (oldestMs !== null) oldestWaiting.set({ provider: source.provider, queue: stats.queue }, oldestMs / 1_000);
        }
      }
    };

    eventLoop = monitorEventLoopDelay({ resolution: resolutionMs });
    eventLoop.enable();
    const sampler = eventLoop;
    new Gauge({
      name: 'kairos_event_loop_lag_seconds',
      help: 'p99 event-loop delay since the previous scrape (timers, including Kairos fires, start this late).',
      registers,
      collect() {
        // The sampler reports delay beyond its own resolution; an idle loop reads ~0. Reset per scrape
        // so the gauge describes the last interval, not the process lifetime.
        const p99Ns = sampler.count > 0 ? sampler.percentile(99) : 0;
        this.set(Math.max(0, p99Ns / 1e9 - resolutionMs / 1_000));
        sampler.reset();
      },
    });
    registered.push('kairos_event_loop_lag_seconds');

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

    const recorder: MetricsRecorder = {
      runFinished(event) {
        const lane = checkLabel('lane', event.lane, LANES);
        const state = checkLabel('state', event.state, RUN_STATES);
        if (event.durationMs !== undefined) {
          const durationMs = checkFinite('durationMs', event.durationMs);
          runDuration.observe({ lane }, Math.max(0, durationMs) / 1_000);
        }
        runs.inc({ lane, state });
      },
      fireLate(event) {
        const lane = checkLabel('lane', event.lane, LANES);
        const lateMs = checkFinite('lateMs', event.lateMs);
        fireLateness.observe({ lane }, Math.max(0, lateMs) / 1_000);
      },
      misfire(event) {
        misfires.inc({ lane: checkLabel('lane', event.lane, LANES) });
      },
      misfit(event) {
        misfits.inc({ suggested_lane: checkLabel('suggestedLane', event.suggestedLane, LANES) });
      },
      retry(event) {
        retries.inc({ lane: checkLabel('lane', event.lane, LANES) });
      },
      deadLetter(event) {
        deadLetters.inc({ provider: checkName('provider', event.provider), queue: checkName('queue', event.queue) });
      },
      setLeader(isLeader) {
        leader.set(isLeader ? 1 : 0);
      },
      addQueueStatsSource(source) {
        checkName('provider', source.provider);
        if (typeof source.stats !== 'function') {
          throw new InvalidParametersError('stats: expected a function returning QueueStats[].', { details: { field: 'stats' } });
        }
        sources.add(source);
        statsErrors.inc({ provider: source.provider }, 0);
        return () => {
          sources.delete(source);
        };
      },
    };

    return {
      ...recorder,
      registry,
      contentType: registry.contentType,
      render: () => registry.metrics(),
      close() {
        sampler.disable();
        sources.clear();
        if (ownsRegistry) registry.clear();
        else for (const name of registered) registry.removeSingleMetric(name);
      },
    };
  } catch (error) {
    eventLoop?.disable();
    for (const name of registered) registry.removeSingleMetric(name);
    if (error instanceof Error && /already been registered/.test(error.message)) {
      throw new ConfigError(
        `registry: ${error.message}. Pass a registry without Kairos metrics (each createMetrics call needs its own), or omit it.`,
        { cause: error, details: { field: 'registry' } },
      );
    }
    throw error;
  }
}
