/**
 * The seam between deployments (schedules, backfill, event and metric triggers) and the engine that
 * actually runs flows and workflows. Deployments only ever start, list and cancel runs through this
 * interface, so the scheduler can be tested and reasoned about without the engine's internals, and
 * the engine satisfies it with `createEngine(...)`.
 */
export interface RunTarget {
  /** Which lane the deployment starts: a DAG flow or a durable workflow. */
  kind: 'flow' | 'workflow';
  /** The registered flow or workflow name. */
  name: string;
}

export interface LaunchOptions {
  /**
   * Starting twice with one key creates one run: the second call returns the first run with
   * `created: false`. Scheduled fires use `${deploymentId}:${fireMs}`, so a fire is started once
   * even when several schedulers race on it.
   */
  idempotencyKey: string;
  /** The deployment the run belongs to; `activeRuns(deploymentId)` finds it by this. */
  deploymentId: string;
  /** The instant the run was scheduled for (the fire time, before jitter), epoch ms. */
  scheduledMs: number;
}

export interface RunFinishedEvent {
  runId: string;
  /** The deployment that started the run, or null for a run started directly. */
  deploymentId: string | null;
  /** The terminal state (Completed, Failed, Cancelled, …). */
  state: string;
}

export interface RunLauncher {
  /** Starts (or, for a known idempotency key, finds) a run of `target` with `params`. */
  start(target: RunTarget, params: unknown, opts: LaunchOptions): Promise<{ runId: string; created: boolean }>;
  /** Ids of the deployment's runs that are not yet in a terminal state, oldest first. */
  activeRuns(deploymentId: string): Promise<string[]>;
  /** Requests cancellation of a run; resolves once the request is recorded (the run may still be stopping). */
  cancel(runId: string): Promise<void>;
  /** Calls `listener` whenever a run reaches a terminal state. Returns the unsubscribe function. */
  onRunFinished(listener: (e: RunFinishedEvent) => void): () => void;
}
