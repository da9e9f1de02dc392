import type { Logger } from '../../core/logger.js';
import { ConfigError, StoreError } from '../../errors.js';
import type { Deployments } from '../deployments/deployments.js';
import type { FireOutcome } from '../deployments/firing.js';
import { createSql } from '../deployments/sql.js';
import type { Deployment } from '../deployments/types.js';
import { matchesSubset } from './match.js';
import { evaluateMetricSample, INITIAL_METRIC_STATE, labelsMatch } from './metric-trigger.js';
import { createEventRepository, type EventRepository, type StoredEvent } from './repository.js';

export interface EventBusOptions {
  deployments: Deployments;
  /**
   * Hands the event to workflows waiting for it (`engine.deliverEvent`); returns how many it woke.
   * Injected so that this module does not depend on the engine's internals. Default: none.
   */
  deliverEvent?: (name: string, payload: unknown) => number | Promise<number>;
}

export interface EmitResult {
  /** The stored event's id. Every event is stored, whether or not anything listens. */
  eventId: number;
  /** Deployments whose event trigger matched, and what each fire did. */
  started: { deployment: string; outcome: FireOutcome }[];
  /** Waiting workflow runs the event was delivered to. */
  delivered: number;
}

export interface MetricResult {
  /** Deployments whose metric trigger fired on this sample. */
  started: { deployment: string; outcome: FireOutcome }[];
}

const MAX_STATE_RETRIES = 10;

/**
 * Events and metrics in, runs out: `emit` records the event, starts every deployment whose event
 * trigger matches, and delivers it to waiting workflows; `recordMetric` advances every metric
 * trigger on that metric and starts the deployments whose condition has held long enough.
 */
export class EventBus {
  readonly repository: EventRepository;
  private readonly deployments: Deployments;
  private readonly logger: Logger;
  private readonly deliver: EventBusOptions['deliverEvent'];

  constructor(options: EventBusOptions) {
    this.deployments = options.deployments;
    this.logger = options.deployments.logger;
    this.deliver = options.deliverEvent;
    this.repository = createEventRepository(createSql(options.deployments.store));
  }

  /**
   * Records the event, then starts matching deployments (one run per deployment per event: the fire
   * key is the event id, so retrying an emit after a crash does not start twice) and delivers it to
   * waiting workflows.
   */
  async emit(name: string, payload: unknown = null): Promise<EmitResult> {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ConfigError("emit: the event name must be a non-empty string such as 'drift.detected'.", { details: { field: 'name' } });
    }
    const nowMs = this.deployments.clock.now();
    const eventId = await this.repository.insert(name, payload, nowMs);
    const started: EmitResult['started'] = [];
    for (const deployment of await this.deployments.repository.listByEvent(name)) {
      if (deployment.paused || !this.matches(deployment, payload)) continue;
      const trigger = deployment.eventTrigger;
      const parameters = trigger?.payloadAs == null ? null : { ...deployment.parameters, [trigger.payloadAs]: payload };
      const outcome = await this.deployments.processor.fire(deployment, {
        fireMs: nowMs,
        origin: 'event',
        fireKey: `${deployment.id}:event:${eventId}`,
        parameters,
      });
      started.push({ deployment: deployment.name, outcome });
    }
    const delivered = this.deliver === undefined ? 0 : await this.deliver(name, payload);
    await this.repository.recordOutcome(eventId, started.length, delivered);
    return { eventId, started, delivered };
  }

  /** Feeds one sample to every metric trigger on `metric` whose labels match. */
  async recordMetric(metric: string, value: number, labels: Record<string, string> = {}): Promise<MetricResult> {
    const atMs = this.deployments.clock.now();
    const started: MetricResult['started'] = [];
    for (const deployment of await this.deployments.repository.listByMetric(metric)) {
      const spec = deployment.metricTrigger;
      if (spec === null || deployment.paused || !labelsMatch(spec, labels)) continue;
      const episodeMs = await this.advance(deployment, value, atMs);
      if (episodeMs === null) continue;
      const outcome = await this.deployments.processor.fire(deployment, {
        fireMs: atMs,
        origin: 'metric',
        // One run per episode, even if two processes both saw it cross.
        fireKey: `${deployment.id}:metric:${episodeMs}`,
      });
      started.push({ deployment: deployment.name, outcome });
    }
    return { started };
  }

  /** Recent events, newest first (an event no one listened to is here too). */
  listEvents(options: { name?: string; limit?: number } = {}): Promise<StoredEvent[]> {
    return this.repository.list(options);
  }

  private matches(deployment: Deployment, payload: unknown): boolean {
    const trigger = deployment.eventTrigger;
    if (trigger === null) return false;
    if (trigger.hasPredicate) {
      const predicate = this.deployments.predicateOf(deployment.id);
      if (predicate === undefined) {
        this.logger.warn({ deployment: deployment.name }, 'event trigger has a predicate registered in another process; not evaluated here');
        return false;
      }
      try {
        return predicate(payload) === true;
      } catch (error) {
        this.logger.warn({ err: error, deployment: deployment.name }, 'event trigger predicate threw; treated as no match');
        return false;
      }
    }
    return trigger.match === null || matchesSubset(payload, trigger.match);
  }

  /** Applies the sample to the stored state; returns the episode start when this sample fires. */
  private async advance(deployment: Deployment, value: number, atMs: number): Promise<number | null> {
    const spec = deployment.metricTrigger;
    if (spec === null) return null;
    for (let attempt = 0; attempt < MAX_STATE_RETRIES; attempt += 1) {
      const stored = await this.repository.metricState(deployment.id);
      const { state, fire } = evaluateMetricSample(spec, stored?.state ?? INITIAL_METRIC_STATE, value, atMs);
      if (await this.repository.saveMetricState(deployment.id, stored?.version ?? null, state)) {
        return fire ? state.episodeSinceMs : null;
      }
    }
    throw new StoreError(`recordMetric: the state of '${deployment.name}' kept changing under concurrent writers; sample dropped.`, {
      details: { deployment: deployment.name },
    });
  }
}

export function createEventBus(options: EventBusOptions): EventBus {
  return new EventBus(options);
}
