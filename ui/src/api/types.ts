/**
 * The shapes the UI reads from the API (see docs/openapi.json). Times are epoch milliseconds (UTC).
 * Fields the UI can do without are optional, so an older server still renders.
 */

export const RUN_STATES = ['Scheduled', 'Pending', 'Running', 'Waiting', 'Retrying', 'Completed', 'Failed', 'TimedOut', 'Cancelled', 'Crashed', 'Skipped', 'Missed'] as const;
export type RunState = (typeof RUN_STATES)[number];

const TERMINAL: ReadonlySet<string> = new Set(['Completed', 'Failed', 'TimedOut', 'Cancelled', 'Crashed', 'Skipped', 'Missed']);
export const isTerminal = (state: string): boolean => TERMINAL.has(state);

export type Lane = 'local' | 'queue' | 'flow' | 'workflow';
export type RunKind = 'flow' | 'workflow';

export interface RecordedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  details?: Record<string, unknown>;
}

export interface RunSummary {
  id: string;
  kind: RunKind;
  name: string;
  state: string;
  attempt: number;
  createdMs: number;
  scheduledMs: number;
  startedMs: number | null;
  endedMs: number | null;
  deploymentId?: string | null;
  parentRunId?: string | null;
  tags?: string[];
  error?: RecordedError | null;
}

export interface RunRecord extends RunSummary {
  params?: unknown;
  result?: unknown;
  queue?: string;
  leaseOwner?: string | null;
  wakeMs?: number | null;
  updatedMs?: number;
}

export interface StepRecord {
  key: string;
  kind: string;
  state: string;
  attempt: number;
  input?: unknown;
  output?: unknown;
  error?: RecordedError | null;
  cached?: boolean;
  wakeMs?: number | null;
  startedMs: number | null;
  endedMs: number | null;
}

export interface RunEventRecord {
  id: number;
  stepKey: string | null;
  type: string;
  state?: string | null;
  level?: string | null;
  message?: string | null;
  data?: unknown;
  atMs: number;
}

export interface RunDetail {
  run: RunRecord;
  steps: StepRecord[];
  events: RunEventRecord[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface LocalJob {
  id: string;
  name: string;
  trigger: string;
  nextRunMs: number | null;
  paused: boolean;
  runCount: number;
  missedCount: number;
  lastRunMs: number | null;
  lastResult?: unknown;
  lastError?: { name?: string; message: string } | null;
  running: number;
  state: string;
  misfit: boolean;
  misfitReason?: string | null;
}

export interface DeploymentInfo {
  name: string;
  id?: string;
  target?: { kind: string; name: string } | string;
  schedule?: unknown;
  scheduleText?: string;
  paused: boolean;
  nextFireMs?: number | null;
  lastFireMs?: number | null;
  lastRun?: RunSummary | null;
  description?: string | null;
  parameters?: Record<string, unknown>;
}

export interface FlowTask {
  key: string;
  dependsOn: string[];
  triggerRule?: string;
  retries?: number;
}

export interface FlowInfo {
  name: string;
  description?: string | null;
  tasks: FlowTask[];
  parameters?: unknown;
  lastRun?: RunSummary | null;
}

export interface WorkflowInfo {
  name: string;
  description?: string | null;
  lastRun?: RunSummary | null;
}

export interface QueueStats {
  queue: string;
  provider?: string;
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
  oldestWaitingAgeMs?: number | null;
}

export interface QueueJob {
  id: string;
  name: string;
  payload?: unknown;
  attempts?: number;
  maxAttempts?: number;
  priority?: number;
  state?: string;
  runAtMs?: number | null;
  createdMs?: number;
  lastError?: string | null;
}

export interface DeadLetterInfo {
  job: QueueJob;
  error: string;
  deadAtMs: number;
}

export interface WorkerInfo {
  id: string;
  queue?: string;
  queues?: string[];
  host?: string;
  startedMs?: number;
  lastSeenMs?: number;
  active?: number;
  leases?: { jobId: string; untilMs: number }[];
}

export interface ExplainResult {
  lane: Lane;
  reasons: string[];
}
