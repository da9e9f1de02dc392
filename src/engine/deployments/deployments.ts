import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/events.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { DeploymentNotFoundError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { runBackfill, type BackfillOptions, type BackfillResult } from './backfill.js';
import { FireProcessor, scheduleFireKey, type DeploymentEventMap, type FireOutcome } from './firing.js';
import type { RunLauncher, RunTarget } from './launcher.js';
import { normaliseDeployOptions, validateTarget, type DeployOptions, type NormalisedDeployOptions } from './options.js';
import { createDeploymentRepository, createFireRepository, type DeploymentRepository, type FireRepository, type StoredFire } from './repository.js';
import { scheduleTrigger } from './schedule.js';
import { createSql } from './sql.js';
import type { Deployment, OverlapPolicy } from './types.js';

export interface DeploymentsOptions {
  store: Store;
  /** Starts, lists and cancels runs — the engine (`createEngine(...)`) satisfies it. */
  launcher: RunLauncher;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** Names this process in fire records. Default: a random id. */
  schedulerId?: string;
}

/** Something with a name and a kind — a RunTarget, or a flow / workflow definition. */
export type DeployTarget = RunTarget | { readonly kind: 'flow' | 'workflow'; readonly name: string };

export interface TriggerNowOptions {
  /** Parameters merged over the deployment's for this run only. */
  parameters?: Record<string, unknown>;
  /** Overlap policy for this start. Default: the deployment's (Temporal's trigger-immediately rule). */
  overlap?: OverlapPolicy;
}

/**
 * Deployments: a flow or workflow, bound to a schedule, event or metric trigger, with its default
 * parameters and policies, stored so that every Kairos process (and the scheduler that leads) sees
 * the same set. This object is the API; `DeploymentScheduler` fires the schedules.
 */
export class Deployments {
  readonly events: TypedEmitter<DeploymentEventMap>;
  readonly repository: DeploymentRepository;
  readonly fires: FireRepository;
  readonly processor: FireProcessor;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: Store;
  /** Predicates of event triggers deployed from this process; they cannot be stored. */
  private readonly predicates = new Map<string, (payload: unknown) => boolean>();
  private readonly unsubscribe: () => void;

  constructor(options: DeploymentsOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.events = new TypedEmitter<DeploymentEventMap>((error, event) =>
      this.logger.warn({ err: error, event }, 'a deployments event listener threw'),
    );
    const sql = createSql(options.store);
    this.repository = createDeploymentRepository(sql);
    this.fires = createFireRepository(sql);
    this.processor = new FireProcessor(this.fires, options.launcher, this.clock, this.logger, this.events, options.schedulerId ?? randomUUID());
    // A finished run may make room for a buffered fire; start it now rather than at the next tick.
    this.unsubscribe = options.launcher.onRunFinished((event) => {
      if (event.deploymentId === null) return;
      const deploymentId = event.deploymentId;
      void this.repository
        .getById(deploymentId)
        .then((deployment) => (deployment === undefined ? 0 : this.processor.drain(deployment)))
        .catch((error: unknown) => this.logger.warn({ err: error, deploymentId }, 'draining buffered fires failed'));
    });
  }

  /**
   * Creates the deployment, or updates the one with this name (Prefect's `apply`). Everything is
   * validated first; on an error nothing is stored.
   *
   * @throws ConfigError (and the duration / trigger / zone errors) naming the bad field.
   */
  async deploy(target: DeployTarget, options: DeployOptions): Promise<Deployment> {
    const runTarget = validateTarget(target);
    const nowMs = this.clock.now();
    const normalised = normaliseDeployOptions(options, nowMs);
    const existing = await this.repository.getByName(normalised.name);
    const deployment = this.build(runTarget, normalised, existing, nowMs);
    if (existing === undefined) await this.repository.insert(deployment);
    else await this.repository.replace(deployment);
    if (normalised.predicate !== null) this.predicates.set(deployment.id, normalised.predicate);
    else this.predicates.delete(deployment.id);
    return deployment;
  }

  /** Changes some options of a deployment; the others keep their current values. */
  async update(name: string, changes: Partial<Omit<DeployOptions, 'name'>>): Promise<Deployment> {
    const current = await this.get(name);
    return this.deploy(current.target, { ...this.optionsOf(current), ...changes, name });
  }

  async get(name: string): Promise<Deployment> {
    const deployment = await this.repository.getByName(name);
    if (deployment === undefined) {
      throw new DeploymentNotFoundError(`No deployment is named '${name}'. List them with \`kairos deployments ls\`.`, { details: { name } });
    }
    return deployment;
  }

  list(): Promise<Deployment[]> {
    return this.repository.list();
  }

  /** Stops scheduled fires until `resume`. Event and metric triggers are paused too. */
  async pause(name: string): Promise<Deployment> {
    const deployment = await this.get(name);
    await this.repository.setPaused(deployment.id, true, this.clock.now());
    return { ...deployment, paused: true };
  }

  /**
   * Resumes a paused deployment. Fires that fell while it was paused are dropped, not caught up
   * (Prefect and Temporal do the same); use `backfill` to run them.
   */
  async resume(name: string): Promise<Deployment> {
    const deployment = await this.get(name);
    const nowMs = this.clock.now();
    const cursor = deployment.paused ? Math.max(deployment.lastFireMs, nowMs) : deployment.lastFireMs;
    await this.repository.setPaused(deployment.id, false, nowMs, cursor);
    return { ...deployment, paused: false, lastFireMs: cursor };
  }

  async delete(name: string): Promise<void> {
    const deployment = await this.get(name);
    await this.repository.delete(deployment.id);
    this.predicates.delete(deployment.id);
  }

  /** Starts a run now (a "manual" fire), applying the overlap policy unless told otherwise. */
  async trigger(name: string, options: TriggerNowOptions = {}): Promise<FireOutcome> {
    const deployment = await this.get(name);
    const fireMs = this.clock.now();
    const parameters = options.parameters === undefined ? null : { ...deployment.parameters, ...options.parameters };
    return this.processor.fire(deployment, {
      fireMs,
      origin: 'manual',
      fireKey: `${deployment.id}:manual:${randomUUID()}`,
      parameters,
      overlap: options.overlap,
    });
  }

  /** Creates runs for every scheduled fire in a past range; see `BackfillOptions`. */
  async backfill(name: string, options: BackfillOptions): Promise<BackfillResult> {
    return runBackfill(this, await this.get(name), options);
  }

  /** The recorded fires of a deployment, newest first. */
  async history(name: string, options: { limit?: number; fromMs?: number; toMs?: number } = {}): Promise<StoredFire[]> {
    return this.fires.list((await this.get(name)).id, options);
  }

  /** The next `count` scheduled fire times after its cursor (for the CLI and UI). */
  upcoming(deployment: Deployment, count = 5): number[] {
    if (deployment.schedule === null) return [];
    const trigger = scheduleTrigger(deployment.schedule, deployment);
    const fires: number[] = [];
    for (let at = trigger.next(deployment.lastFireMs); at !== null && fires.length < count; at = trigger.next(at)) fires.push(at);
    return fires;
  }

  /** The predicate of an event trigger deployed from this process, if any. */
  predicateOf(deploymentId: string): ((payload: unknown) => boolean) | undefined {
    return this.predicates.get(deploymentId);
  }

  scheduleFireKey(deployment: Deployment, fireMs: number): string {
    return scheduleFireKey(deployment.id, fireMs);
  }

  /** Stops listening to the launcher. The store is the caller's to close. */
  close(): void {
    this.unsubscribe();
  }

  private build(target: RunTarget, o: NormalisedDeployOptions, existing: Deployment | undefined, nowMs: number): Deployment {
    // Build the trigger once now, so a bad cron / rrule is refused before anything is stored.
    if (o.schedule !== null) scheduleTrigger(o.schedule, o);
    const scheduleChanged = existing !== undefined && JSON.stringify(existing.schedule) !== JSON.stringify(o.schedule);
    // The cursor: the next fire is computed strictly after it. A new or rescheduled deployment starts now.
    const lastFireMs = existing === undefined || scheduleChanged ? Math.max(existing?.lastFireMs ?? nowMs, nowMs) : existing.lastFireMs;
    return {
      id: existing?.id ?? randomUUID(),
      name: o.name,
      target,
      schedule: o.schedule,
      eventTrigger: o.eventTrigger,
      metricTrigger: o.metricTrigger,
      parameters: o.parameters,
      overlap: o.overlap,
      catchupWindowMs: o.catchupWindowMs,
      maxActiveRuns: o.maxActiveRuns,
      paused: o.paused,
      jitterMs: o.jitterMs,
      startMs: o.startMs,
      endMs: o.endMs,
      lastFireMs,
      description: o.description,
      createdAtMs: existing?.createdAtMs ?? nowMs,
      updatedAtMs: nowMs,
    };
  }

  private optionsOf(d: Deployment): DeployOptions {
    const schedule =
      d.schedule === null
        ? undefined
        : d.schedule.kind === 'cron'
          ? { cron: d.schedule.expression, timezone: d.schedule.timezone }
          : d.schedule.kind === 'interval'
            ? { every: d.schedule.everyMs, anchorMs: d.schedule.anchorMs }
            : { rrule: d.schedule.rule, timezone: d.schedule.timezone, anchorMs: d.schedule.startMs };
    const predicate = this.predicates.get(d.id);
    const on: DeployOptions['on'] =
      d.metricTrigger ??
      (d.eventTrigger === null
        ? undefined
        : { event: d.eventTrigger.event, match: predicate ?? d.eventTrigger.match ?? undefined, payloadAs: d.eventTrigger.payloadAs ?? undefined });
    return {
      name: d.name, schedule, on, parameters: d.parameters, overlap: d.overlap, catchupWindowMs: d.catchupWindowMs,
      maxActiveRuns: d.maxActiveRuns ?? undefined, paused: d.paused, jitterMs: d.jitterMs, startMs: d.startMs ?? undefined,
      endMs: d.endMs ?? undefined, description: d.description ?? undefined,
    };
  }
}

/** Builds the deployments API over a store and a launcher (the engine). */
export function createDeployments(options: DeploymentsOptions): Deployments {
  return new Deployments(options);
}
