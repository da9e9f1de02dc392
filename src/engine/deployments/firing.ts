import type { Clock } from '../../core/clock.js';
import type { TypedEmitter } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import { KairosError, StoreError } from '../../errors.js';
import type { RunLauncher } from './launcher.js';
import type { FireRepository, StoredFire } from './repository.js';
import { capacityOf, FireState, OverlapPolicy, type Deployment, type FireOrigin } from './types.js';

/** Emitted for every fire decision, for the UI stream, metrics and alerts. */
export interface FireEvent {
  deploymentId: string;
  deploymentName: string;
  fireKey: string;
  fireMs: number;
  origin: FireOrigin;
  state: FireState;
  runId: string | null;
  reason: string | null;
  /** When the run was started (or the decision taken), epoch ms; lateness = atMs - fireMs. */
  atMs: number;
}

export interface DeploymentEventMap extends Record<string, unknown> {
  fire: FireEvent;
  /** Fires older than the catch-up window that were not recorded one by one (see the scheduler). */
  missedSummary: { deploymentId: string; deploymentName: string; fromMs: number; toMs: number };
  leader: { schedulerId: string; leader: boolean };
}

export interface FireRequest {
  fireMs: number;
  origin: FireOrigin;
  /** Unique per fire, and the run's idempotency key. Schedule fires: `${deploymentId}:${fireMs}`. */
  fireKey: string;
  /** Parameters for this fire only (replacing the deployment's). */
  parameters?: Record<string, unknown> | null;
  /** Overrides the deployment's overlap policy for this fire (backfill, trigger now). */
  overlap?: OverlapPolicy;
}

export interface FireOutcome {
  fireKey: string;
  /** `Duplicate` when another scheduler (or an earlier call) already recorded this fire. */
  state: FireState | 'Duplicate';
  runId: string | null;
  reason: string | null;
}

export function scheduleFireKey(deploymentId: string, fireMs: number): string {
  return `${deploymentId}:${fireMs}`;
}

/**
 * Applies a deployment's overlap policy to fires and starts their runs. Every fire is recorded
 * (unique key) before anything else happens, so of several callers racing on one fire exactly one
 * acts on it. Work on one deployment is serialised within the process, so that two fires of one
 * deployment never both see "nothing running" and both start.
 */
export class FireProcessor {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fires: FireRepository,
    private readonly launcher: RunLauncher,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: TypedEmitter<DeploymentEventMap>,
    readonly schedulerId: string,
  ) {}

  /** Records the fire and decides it: started, buffered, skipped — or `Duplicate` if already recorded. */
  fire(deployment: Deployment, request: FireRequest): Promise<FireOutcome> {
    return this.serialised(deployment.id, async () => {
      const fire: StoredFire = {
        fireKey: request.fireKey,
        deploymentId: deployment.id,
        fireMs: request.fireMs,
        origin: request.origin,
        state: FireState.Pending,
        runId: null,
        reason: null,
        parameters: request.parameters ?? null,
        recordedAtMs: this.clock.now(),
        startedAtMs: null,
        schedulerId: this.schedulerId,
      };
      // One round trip records the fire and lists older buffered fires (they go first).
      const recorded = await this.fires.tryInsertListingBuffered(fire);
      if (!recorded.inserted) return { fireKey: fire.fireKey, state: 'Duplicate', runId: null, reason: 'already recorded' };
      let buffered = recorded.buffered;
      if (buffered.length > 0) {
        await this.drainLocked(deployment);
        buffered = await this.fires.listBuffered(deployment.id);
      }
      return this.decide(deployment, fire, request.overlap ?? deployment.overlap, buffered);
    });
  }

  /** Records a fire as Missed (older than the catch-up window). False if it was already recorded. */
  async recordMissed(deployment: Deployment, fireMs: number, reason: string): Promise<boolean> {
    const fireKey = scheduleFireKey(deployment.id, fireMs);
    const recorded = await this.fires.tryInsert({
      fireKey, deploymentId: deployment.id, fireMs, origin: 'schedule', state: FireState.Missed, runId: null, reason,
      parameters: null, recordedAtMs: this.clock.now(), startedAtMs: null, schedulerId: this.schedulerId,
    });
    if (recorded) this.emit(deployment, { fireKey, fireMs, origin: 'schedule' }, FireState.Missed, null, reason);
    return recorded;
  }

  /** Starts buffered fires, oldest first, while the deployment has room. Returns how many started. */
  drain(deployment: Deployment): Promise<number> {
    return this.serialised(deployment.id, () => this.drainLocked(deployment));
  }

  /**
   * Re-drives a fire left Pending by a scheduler that died between recording and starting it. Safe
   * to repeat: the run's idempotency key is the fire key, so the engine starts it at most once.
   */
  retryPending(deployment: Deployment, fire: StoredFire): Promise<FireOutcome> {
    return this.serialised(deployment.id, () => this.start(deployment, fire, 'retried after its scheduler stopped'));
  }

  private async decide(deployment: Deployment, fire: StoredFire, overlap: OverlapPolicy, buffered: StoredFire[]): Promise<FireOutcome> {
    const capacity = overlap === deployment.overlap ? capacityOf(deployment) : capacityOf({ overlap, maxActiveRuns: deployment.maxActiveRuns });
    // Unbounded allow_all never needs to know what is running.
    const active = capacity === Number.POSITIVE_INFINITY ? [] : await this.launcher.activeRuns(deployment.id);
    const hasRoom = active.length < capacity;
    switch (overlap) {
      case OverlapPolicy.Skip:
        return hasRoom ? this.start(deployment, fire) : this.settle(deployment, fire, FireState.Skipped, `${active.length} run(s) still active (overlap: skip)`);
      case OverlapPolicy.AllowAll:
      case OverlapPolicy.BufferAll:
        if (hasRoom && buffered.length === 0) return this.start(deployment, fire);
        return this.settle(deployment, fire, FireState.Buffered, `waiting for ${active.length} active run(s) (overlap: ${overlap})`);
      case OverlapPolicy.BufferOne:
        if (hasRoom && buffered.length === 0) return this.start(deployment, fire);
        if (buffered.length >= 1) return this.settle(deployment, fire, FireState.Skipped, 'a start is already buffered (overlap: buffer_one)');
        return this.settle(deployment, fire, FireState.Buffered, 'waiting for the active run (overlap: buffer_one)');
      case OverlapPolicy.CancelOther: {
        if (hasRoom && buffered.length === 0) return this.start(deployment, fire);
        for (const older of buffered) {
          if (await this.fires.transition(older.fireKey, FireState.Buffered, FireState.Skipped, 'superseded by a newer fire (overlap: cancel_other)')) {
            this.emit(deployment, older, FireState.Skipped, null, 'superseded by a newer fire (overlap: cancel_other)');
          }
        }
        await Promise.all(active.map((runId) => this.launcher.cancel(runId)));
        const outcome = await this.settle(deployment, fire, FireState.Buffered, `cancelling ${active.length} active run(s) (overlap: cancel_other)`);
        const started = await this.drainLocked(deployment);
        return started > 0 ? ((await this.outcomeOf(fire.fireKey)) ?? outcome) : outcome;
      }
    }
  }

  private async drainLocked(deployment: Deployment): Promise<number> {
    let started = 0;
    for (;;) {
      const [next] = await this.fires.listBuffered(deployment.id);
      if (next === undefined) return started;
      const capacity = capacityOf(deployment);
      if (capacity !== Number.POSITIVE_INFINITY && (await this.launcher.activeRuns(deployment.id)).length >= capacity) return started;
      // Only the caller whose transition succeeds starts it (another process may be draining too).
      if (await this.fires.transition(next.fireKey, FireState.Buffered, FireState.Pending, null, this.schedulerId)) {
        const outcome = await this.start(deployment, next);
        if (outcome.state === FireState.Started) started += 1;
      }
    }
  }

  private async start(deployment: Deployment, fire: StoredFire, note: string | null = null): Promise<FireOutcome> {
    try {
      const { runId } = await this.launcher.start(deployment.target, fire.parameters ?? deployment.parameters, {
        idempotencyKey: fire.fireKey,
        deploymentId: deployment.id,
        scheduledMs: fire.fireMs,
      });
      const atMs = this.clock.now();
      await this.fires.markStarted(fire.fireKey, runId, atMs, note);
      this.emit(deployment, fire, FireState.Started, runId, note, atMs);
      return { fireKey: fire.fireKey, state: FireState.Started, runId, reason: note };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A refusal (unknown flow, invalid parameters) will not get better: record it. Anything else
      // (the store or the engine briefly unreachable) leaves the fire Pending, to be retried.
      if (error instanceof KairosError && !(error instanceof StoreError)) {
        await this.fires.transition(fire.fireKey, FireState.Pending, FireState.Failed, reason);
        this.emit(deployment, fire, FireState.Failed, null, reason);
        return { fireKey: fire.fireKey, state: FireState.Failed, runId: null, reason };
      }
      this.logger.warn({ err: error, deployment: deployment.name, fireKey: fire.fireKey }, 'starting a fire failed; it stays Pending and is retried');
      return { fireKey: fire.fireKey, state: FireState.Pending, runId: null, reason };
    }
  }

  private async settle(deployment: Deployment, fire: StoredFire, state: FireState, reason: string): Promise<FireOutcome> {
    await this.fires.transition(fire.fireKey, FireState.Pending, state, reason);
    this.emit(deployment, fire, state, null, reason);
    return { fireKey: fire.fireKey, state, runId: null, reason };
  }

  private async outcomeOf(fireKey: string): Promise<FireOutcome | undefined> {
    const fire = await this.fires.get(fireKey);
    return fire === undefined ? undefined : { fireKey, state: fire.state, runId: fire.runId, reason: fire.reason };
  }

  private emit(
    deployment: Deployment,
    fire: Pick<StoredFire, 'fireKey' | 'fireMs' | 'origin'>,
    state: FireState,
    runId: string | null,
    reason: string | null,
    atMs = this.clock.now(),
  ): void {
    this.events.emit('fire', {
      deploymentId: deployment.id, deploymentName: deployment.name, fireKey: fire.fireKey, fireMs: fire.fireMs, origin: fire.origin,
      state, runId, reason, atMs,
    });
  }

  private serialised<T>(deploymentId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(deploymentId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.chains.set(deploymentId, tail);
    void tail.then(() => {
      if (this.chains.get(deploymentId) === tail) this.chains.delete(deploymentId);
    });
    return result;
  }
}
