import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { JobHandle } from './job-handle.js';
import type { LocalScheduler } from './scheduler.js';
import type { JobFn } from './types.js';

/**
 * The seed's maintenance jobs, each doing a small real thing, for `kairos dev` and the examples:
 * health check (event-loop delay and memory), heartbeat, metrics (CPU and memory snapshot), cache
 * warming and hourly cache cleanup on an in-memory LRU cache.
 */

/** A small LRU cache with a time-to-live per entry: a Map keeps insertion order, re-inserting on read. */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; expiresMs: number }>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresMs <= this.now()) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresMs: this.now() + this.ttlMs });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Drops expired entries; returns how many. */
  evictExpired(): number {
    const nowMs = this.now();
    let evicted = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresMs <= nowMs) {
        this.entries.delete(key);
        evicted += 1;
      }
    }
    return evicted;
  }
}

export interface MaintenanceJobs {
  healthCheck: JobFn;
  heartbeat: JobFn;
  collectMetrics: JobFn;
  warmCache: JobFn;
  cleanupCache: JobFn;
  cache: LruCache<string>;
  /** Stops the event-loop delay histogram the health check reads. */
  close(): void;
}

export interface MaintenanceJobsOptions {
  /** Entries the LRU cache holds. Default 1000. */
  cacheCapacity?: number;
  /** How long a warmed entry lives. Default 10 minutes. */
  cacheTtlMs?: number;
  /** Entries one warming pass computes. Default 100. */
  warmBatch?: number;
  /** Event-loop delay p99 above which the health check says `degraded`. Default 100. */
  degradedLoopDelayMs?: number;
}

const MB = 1024 * 1024;
/** The health check's loop-delay sampling period; Node's histogram includes it in every sample. */
const LOOP_DELAY_RESOLUTION_MS = 10;
const round1 = (n: number): number => Math.round(n * 10) / 10;

export function createMaintenanceJobs(options: MaintenanceJobsOptions = {}): MaintenanceJobs {
  const cache = new LruCache<string>(options.cacheCapacity ?? 1_000, options.cacheTtlMs ?? 600_000);
  const warmBatch = options.warmBatch ?? 100;
  const degradedMs = options.degradedLoopDelayMs ?? 100;
  let loopDelay: IntervalHistogram | null = null;
  let beats = 0;
  let warmRound = 0;
  let lastCpu = process.cpuUsage();
  const startedMs = Date.now();

  const healthCheck: JobFn = function healthCheck() {
    if (loopDelay === null) {
      loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
      loopDelay.enable();
    }
    const p99Ms = loopDelay.count > 0 ? Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0;
    loopDelay.reset();
    const memory = process.memoryUsage();
    return {
      status: p99Ms > degradedMs ? 'degraded' : 'ok',
      eventLoopDelayP99Ms: round1(p99Ms),
      heapUsedMb: round1(memory.heapUsed / MB),
      rssMb: round1(memory.rss / MB),
    };
  };

  const heartbeat: JobFn = function heartbeat() {
    beats += 1;
    return { alive: true, beat: beats, uptimeS: Math.round((Date.now() - startedMs) / 1_000) };
  };

  const collectMetrics: JobFn = function collectMetrics() {
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return {
      cpuUserMs: round1(cpu.user / 1_000),
      cpuSystemMs: round1(cpu.system / 1_000),
      rssMb: round1(memory.rss / MB),
      heapUsedMb: round1(memory.heapUsed / MB),
      cacheSize: cache.size,
    };
  };

  const warmCache: JobFn = function warmCache() {
    warmRound += 1;
    let hits = 0;
    for (let i = 0; i < warmBatch; i += 1) {
      const key = `report:${(warmRound * 37 + i) % (warmBatch * 3)}`;
      if (cache.get(key) !== undefined) {
        hits += 1;
        continue;
      }
      // The "expensive" value: a tiny, real computation standing in for a query.
      let hash = 0;
      for (const char of key) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
      cache.set(key, hash.toString(16));
    }
    return { warmed: warmBatch - hits, alreadyWarm: hits, size: cache.size };
  };

  const cleanupCache: JobFn = function cleanupCache() {
    const evicted = cache.evictExpired();
    return { evicted, size: cache.size };
  };

  return {
    healthCheck,
    heartbeat,
    collectMetrics,
    warmCache,
    cleanupCache,
    cache,
    close: () => loopDelay?.disable(),
  };
}

export interface RegisterMaintenanceOptions {
  /** Divide every interval by this (30 s → 300 ms at 100), for demos and tests. Default 1. */
  speedup?: number;
  /** Keep the schedules in the scheduler's store. Default false. */
  persistent?: boolean;
}

/**
 * Schedules the maintenance jobs with the seed's own calls (`scheduleInternalTask`, APScheduler
 * keywords): health check every 30 s, heartbeat every 10 s, metrics every minute, cache warming
 * every 45 s, cache cleanup hourly by cron (`hour: '*'`; with a speedup, every 2 s by the cron
 * `second` field — a cron field cannot divide an hour by an arbitrary factor).
 */
export function registerMaintenanceJobs(scheduler: LocalScheduler, jobs: MaintenanceJobs, options: RegisterMaintenanceOptions = {}): JobHandle[] {
  const speedup = options.speedup ?? 1;
  const persistent = options.persistent ?? false;
  const every = (seconds: number): number => seconds / speedup;
  const handles = [
    scheduler.scheduleInternalTask(jobs.healthCheck, { trigger_type: 'interval', seconds: every(30), id: 'health-check', persistent }),
    scheduler.scheduleInternalTask(jobs.heartbeat, { trigger_type: 'interval', seconds: every(10), id: 'heartbeat', persistent }),
    scheduler.scheduleInternalTask(jobs.collectMetrics, { trigger_type: 'interval', seconds: every(60), id: 'metrics', persistent }),
    scheduler.scheduleInternalTask(jobs.warmCache, { trigger_type: 'interval', seconds: every(45), id: 'cache-warming', persistent }),
  ];
  if (speedup === 1) {
    handles.push(scheduler.scheduleInternalTask(jobs.cleanupCache, { trigger_type: 'cron', hour: '*', id: 'cache-cleanup', persistent }));
  } else {
    handles.push(scheduler.scheduleInternalTask(jobs.cleanupCache, { trigger_type: 'cron', second: '*/2', id: 'cache-cleanup', persistent }));
  }
  return handles;
}
