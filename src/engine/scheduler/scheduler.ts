import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Trigger } from '../../core/triggers/trigger.js';
import type { Deployments } from '../deployments/deployments.js';
import { scheduleFireKey } from '../deployments/firing.js';
import { jitterFor, scheduleTrigger } from '../deployments/schedule.js';
import type { Deployment } from '../deployments/types.js';
import { advisoryLockLeader, alwaysLeader, type LeaderElector } from './leader.js';

export interface SchedulerOptions {
  /** The deployments API (its store, launcher, clock and logger are used). */
  deployments: Deployments;
  /**
   * PostgreSQL: how often a follower tries to become leader (and a leader checks its lock).
   * Failover ≤ leaderPollMs + the time the server takes to end a dead leader's session. Default 1000.
   */
  leaderPollMs?: number;
  /**
   * The longest the scheduler sleeps between looks at the store, so deployments created or changed
   * by other processes, and runs finished elsewhere, are noticed. Default 1000.
   */
  pollMs?: number;
  /** A fire recorded but still not started after this long is re-driven (its scheduler died). Default 10 000. */
  pendingRetryMs?: number;
  /** At most this many overdue fires per deployment are recorded one by one as Missed; the rest in one summary. Default 1000. */
  maxMissedRecorded?: number;
  /**
   * Wake this long before a fire is due, read the deployments then, and start the fire at its
   * instant: the store read is taken off the fire's critical path. Default 25 on PostgreSQL (a
   * round trip on a busy server), 0 on SQLite (reads are synchronous and take microseconds).
   */
  prefetchMs?: number;
  /** Who leads. Default: an advisory lock on PostgreSQL, always this process on SQLite. */
  leaderElector?: LeaderElector;
}

/**
 * The scheduling loop: computes every active deployment's due fires from the store, records each
 * one (unique per deployment and tick) before starting its run, applies the overlap policy, the
 * catch-up window and jitter, and sleeps on one timer until the earliest next fire.
 *
 * Only the leader schedules; followers wait for the lock. The loop keeps no schedule state of its
 * own: the cursor (the last fire dealt with) lives in the deployment row, so a new leader — or a
 * restarted process — picks up exactly where the last one stopped and catches up from there.
 */
export class DeploymentScheduler {
  private readonly deployments: Deployments;
  private readonly clock: Clock;
  private readonly elector: LeaderElector;
  private readonly pollMs: number;
  private readonly pendingRetryMs: number;
  private readonly maxMissedRecorded: number;
  private readonly prefetchMs: number;
  private readonly triggers = new Map<string, { updatedAtMs: number; trigger: Trigger }>();
  private timer: TimerHandle | null = null;
  private running = false;
  private ticking: Promise<void> | null = null;
  private housekeeping: Promise<void> | null = null;
  private again = false;
  private nextWakeMs: number | null = null;

  constructor(options: SchedulerOptions) {
    this.deployments = options.deployments;
    this.clock = options.deployments.clock;
    this.pollMs = options.pollMs ?? 1_000;
    this.pendingRetryMs = options.pendingRetryMs ?? 10_000;
    this.maxMissedRecorded = options.maxMissedRecorded ?? 1_000;
    const store = this.deployments.store;
    this.prefetchMs = Math.max(0, options.prefetchMs ?? (store.dialect === 'postgres' ? 25 : 0));
    this.elector =
      options.leaderElector ??
      (store.dialect === 'postgres'
        ? advisoryLockLeader({ store, clock: this.clock, logger: this.deployments.logger, leaderPollMs: options.leaderPollMs ?? 1_000 })
        : alwaysLeader());
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  get schedulerId(): string {
    return this.deployments.processor.schedulerId;
  }

  /** When the loop will next look at the store (epoch ms), or null when it is not leading. */
  get nextWakeAtMs(): number | null {
    return this.nextWakeMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.elector.start((leader) => {
      this.deployments.events.emit('leader', { schedulerId: this.schedulerId, leader });
      if (leader) this.wake();
      else this.sleep();
    });
  }

  /** Stops scheduling, waits for the tick in progress, and gives up leadership. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleep();
    await this.ticking;
    await this.housekeeping;
    await this.elector.stop();
  }

  /** Looks at the store now (after a deploy in this process, or in tests). */
  wake(): void {
    if (!this.running || !this.elector.isLeader) return;
    if (this.ticking !== null) {
      this.again = true;
      return;
    }
    this.sleep();
    this.ticking = this.tick()
      .catch((error: unknown) => this.deployments.logger.error({ err: error }, 'scheduler tick failed; retrying at the next poll'))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves when no tick is in progress (tests drive a fake clock and then wait for this). */
  async whenIdle(): Promise<void> {
    while (this.ticking !== null || this.housekeeping !== null) {
      await this.ticking;
      await this.housekeeping;
    }
  }

  private sleep(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.nextWakeMs = null;
  }

  private async tick(): Promise<void> {
    const nowMs = this.clock.now();
    let wakeMs = nowMs + this.pollMs;
    const deployments = await this.deployments.repository.listScheduled();
    const live = new Set(deployments.map((d) => d.id));
    // Deployments are independent (each is serialised on its own), so their fires go out together:
    // the last of many per-second deployments is not late by the sum of the others' round trips.
    const dues = await Promise.all(deployments.map((deployment) => this.fireDue(deployment, nowMs, nowMs + this.prefetchMs)));
    if (!this.elector.isLeader) return;
    for (const dueMs of dues) if (dueMs !== null) wakeMs = Math.min(wakeMs, dueMs);
    for (const id of this.triggers.keys()) if (!live.has(id)) this.triggers.delete(id);
    // Housekeeping (buffered fires, stale Pending fires) starts runs through the launcher and may be
    // slow; it runs beside the loop, so it never delays the timer of the next fire.
    if (this.housekeeping === null) {
      this.housekeeping = this.housekeep(nowMs)
        .catch((error: unknown) => this.deployments.logger.error({ err: error }, 'scheduler housekeeping failed; retrying at the next tick'))
        .finally(() => (this.housekeeping = null));
    }
    if (this.running && this.elector.isLeader) {
      this.nextWakeMs = wakeMs;
      this.timer = this.clock.setTimer(() => this.wake(), Math.max(0, wakeMs - this.prefetchMs - this.clock.now()));
    }
  }

  /**
   * Deals with every fire of `deployment` due by `horizonMs` (now + prefetchMs), each not before its
   * due instant; returns when the next one is due.
   */
  private async fireDue(deployment: Deployment, nowMs: number, horizonMs: number): Promise<number | null> {
    const trigger = this.triggerOf(deployment);
    const { processor, repository } = this.deployments;
    let cursor = deployment.lastFireMs;
    let missed = 0;
    let nextDueMs: number | null = null;
    for (let fireMs = trigger.next(cursor); fireMs !== null; fireMs = trigger.next(cursor)) {
      const dueMs = fireMs + jitterFor(deployment, fireMs, deployment.jitterMs > 0 ? trigger.next(fireMs) : null);
      if (dueMs > horizonMs) {
        nextDueMs = dueMs;
        break;
      }
      // Woken early (prefetch): the deployments are read; start the fire at its instant, never before.
      if (dueMs > this.clock.now()) await this.until(dueMs);
      if (!this.elector.isLeader || !this.running) break;
      if (nowMs - fireMs > deployment.catchupWindowMs) {
        if (missed >= this.maxMissedRecorded) {
          // A long outage: do not write a row per missed fire; jump to the catch-up window.
          const resumeMs = nowMs - deployment.catchupWindowMs - 1;
          this.deployments.events.emit('missedSummary', { deploymentId: deployment.id, deploymentName: deployment.name, fromMs: fireMs, toMs: resumeMs });
          cursor = Math.max(cursor, resumeMs);
          continue;
        }
        missed += 1;
        await processor.recordMissed(deployment, fireMs, `older than the catch-up window (${deployment.catchupWindowMs} ms) when the scheduler reached it`);
      } else {
        await processor.fire(deployment, { fireMs, origin: 'schedule', fireKey: scheduleFireKey(deployment.id, fireMs) });
      }
      cursor = fireMs;
    }
    // Once per tick: a scheduler that dies before this re-reaches these fires, and finds them recorded.
    if (cursor > deployment.lastFireMs) await repository.advanceCursor(deployment.id, cursor);
    return nextDueMs;
  }

  private until(atMs: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(resolve, Math.max(0, atMs - this.clock.now())));
  }

  private async housekeep(nowMs: number): Promise<void> {
    await this.drainBuffered();
    await this.retryStalePending(nowMs);
  }

  private triggerOf(deployment: Deployment): Trigger {
    const cached = this.triggers.get(deployment.id);
    if (cached !== undefined && cached.updatedAtMs === deployment.updatedAtMs) return cached.trigger;
    // The deployment was validated when stored, so building its trigger cannot fail here.
    const trigger = scheduleTrigger(deployment.schedule ?? { kind: 'interval', everyMs: 1, anchorMs: 0 }, deployment);
    this.triggers.set(deployment.id, { updatedAtMs: deployment.updatedAtMs, trigger });
    return trigger;
  }

  /** Runs finished in other processes are not announced here: look for room at every tick. */
  private async drainBuffered(): Promise<void> {
    for (const id of await this.deployments.fires.deploymentsWithBuffered()) {
      const deployment = await this.deployments.repository.getById(id);
      if (deployment !== undefined && !deployment.paused) await this.deployments.processor.drain(deployment);
    }
  }

  private async retryStalePending(nowMs: number): Promise<void> {
    for (const fire of await this.deployments.fires.stalePending(nowMs - this.pendingRetryMs)) {
      const deployment = await this.deployments.repository.getById(fire.deploymentId);
      if (deployment !== undefined) await this.deployments.processor.retryPending(deployment, fire);
    }
  }
}

/** Builds the scheduling loop over a deployments API; call `start()` to begin. */
export function createScheduler(options: SchedulerOptions): DeploymentScheduler {
  return new DeploymentScheduler(options);
}
