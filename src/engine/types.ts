import type { RunState } from '../core/states.js';

/** What a run executes: a DAG flow or a durable workflow. */
export const RunKind = { Flow: 'flow', Workflow: 'workflow' } as const;
export type RunKind = (typeof RunKind)[keyof typeof RunKind];

/**
 * What a journal entry records. `task` is a flow task (or one item of a mapped task), `step` a
 * workflow step; the others are workflow primitives whose result must be the same on replay.
 */
export const StepKind = {
  Task: 'task',
  Step: 'step',
  Sleep: 'sleep',
  Event: 'event',
  Child: 'child',
  Now: 'now',
  Random: 'random',
  Signal: 'signal',
} as const;
export type StepKind = (typeof StepKind)[keyof typeof StepKind];

/** An error as the journal keeps it: enough to rethrow it on replay and to show it in the UI. */
export interface RecordedError {
  name: string;
  message: string;
  stack?: string;
  /** The KairosError code, when it was one. */
  code?: string;
  details?: Record<string, unknown>;
}

/** One run of a flow or workflow, as stored. Times are epoch milliseconds (UTC). */
export interface RunRecord {
  id: string;
  kind: RunKind;
  name: string;
  params: unknown;
  state: RunState;
  /** The worker queue the run's next piece of work needs (flows hand a run over for `queue` tasks). */
  queue: string;
  parentRunId: string | null;
  deploymentId: string | null;
  idempotencyKey: string | null;
  tags: string[];
  /** 1 for the first execution; `engine.retry` adds one. */
  attempt: number;
  createdMs: number;
  scheduledMs: number;
  startedMs: number | null;
  endedMs: number | null;
  updatedMs: number;
  /** The worker holding the run while it is Running, and until when. */
  leaseOwner: string | null;
  leaseUntilMs: number | null;
  /** For a Waiting run: when it becomes runnable again (null = only an event, signal or child wakes it). */
  wakeMs: number | null;
  error: RecordedError | null;
  result: unknown;
}

/** One journal entry. `key` is unique within the run, so a recorded step is never recorded twice. */
export interface StepRecord {
  runId: string;
  key: string;
  kind: StepKind;
  state: RunState;
  /** Attempts started so far (retries included). */
  attempt: number;
  inputHash: string | null;
  input: unknown;
  output: unknown;
  error: RecordedError | null;
  /** The worker queue a flow task needs, when not the default. */
  queue: string | null;
  /** True when the output came from the task cache rather than from running the task. */
  cached: boolean;
  wakeMs: number | null;
  startedMs: number | null;
  endedMs: number | null;
}

/** One line of a run's timeline: a state transition or a log line written by a task or step. */
export interface RunEventRecord {
  id: number;
  runId: string;
  stepKey: string | null;
  type: 'state' | 'log' | 'event' | 'signal';
  state: RunState | null;
  level: LogLevel | null;
  message: string | null;
  data: unknown;
  atMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Filter for `engine.listRuns`. Every field is optional; results are newest first. */
export interface RunFilter {
  name?: string;
  kind?: RunKind;
  state?: RunState | readonly RunState[];
  deploymentId?: string;
  parentRunId?: string;
  /** Runs carrying this tag. */
  tag?: string;
  /** Default 100. */
  limit?: number;
}

/** The engine's typed events (`engine.events`). Emitted by the process that made the change. */
export interface EngineEvents extends Record<string, unknown> {
  run_state: { runId: string; name: string; kind: RunKind; state: RunState; previous: RunState | null; deploymentId: string | null; atMs: number };
  step_state: { runId: string; stepKey: string; kind: StepKind; state: RunState; attempt: number; atMs: number };
  log: { runId: string; stepKey: string | null; level: LogLevel; message: string; data?: unknown; atMs: number };
}

/** `ctx.log` in tasks and steps: lines are stored on the run's timeline under the step's key. */
export interface StepLogger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}
