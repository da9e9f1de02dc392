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
  durationMs?: number | null;
  deploymentId: string | null;
  parentRunId: string | null;
  tags: string[];
  params: unknown;
  result: unknown;
  queue: string;
  leaseOwner: string | null;
  leaseUntilMs: number | null;
  wakeMs: number | null;
  error: RecordedError | null;
}

export type RunRecord = RunSummary;

export interface StepLog {
  atMs: number;
  level: string;
  message: string;
  data?: unknown;
}

export interface StepRecord {
  key: string;
  kind: string;
  state: string;
  attempt: number;
  input?: unknown;
  output?: unknown;
  error?: RecordedError | null;
  queue?: string | null;
  cached?: boolean;
  wakeMs?: number | null;
  startedMs: number | null;
  endedMs: number | null;
  durationMs?: number | null;
  logs?: StepLog[];
}

/** One line of a run's timeline: a state change, a log line, an event or a signal received. */
export interface TimelineEntry {
  id: number;
  type: string;
  stepKey: string | null;
  state: string | null;
  level: string | null;
  message: string | null;
  data: unknown;
  atMs: number;
}

/** GET /api/runs/:id */
export interface RunDetail {
  run: RunRecord;
  steps: StepRecord[];
  timeline: TimelineEntry[];
  children: RunSummary[];
}

/** GET /api/runs */
export interface RunsPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

export interface LocalJob {
  id: string;
  name: string;
  trigger: string;
  nextRunMs: number | null;
  paused: boolean;
  persistent: boolean;
  state: string;
  running: number;
  runCount: number;
  missedCount: number;
  skippedCount: number;
  lastRunMs: number | null;
  lastResult: unknown;
  lastError: { name: string; message: string; code?: string } | null;
  misfit: boolean;
  misfitReason: string | null;
}

export interface DeploymentInfo {
  id: string;
  name: string;
  target: { kind: RunKind; name: string };
  /** A description of the schedule (`cron 0 2 * * * Europe/Paris`), or null for trigger-only deployments. */
  schedule: string | null;
  eventTrigger: { event: string; match: Record<string, unknown> | null } | null;
  metricTrigger: { metric: string; above: number | null; below: number | null; forMs: number } | null;
  parameters: Record<string, unknown>;
  overlap: string;
  paused: boolean;
  lastFireMs: number;
  nextFireTimesMs: number[];
  description: string | null;
}

export interface FlowNode {
  id: string;
  needs: string[];
  triggerRule: string;
  queue: string;
  tags: string[];
  map: string | null;
  retries: number;
}

export interface FlowInfo {
  name: string;
  description: string | null;
  graph: { nodes: FlowNode[]; edges: { from: string; to: string }[] };
}

/** One column of a flow's grid: a run and each task's state in it (mapped tasks: their worst item). */
export interface GridRow {
  run: RunSummary;
  tasks: Record<string, string>;
}

/** GET /api/flows/:name */
export interface FlowDetail extends FlowInfo {
  grid: GridRow[];
}

export interface WorkflowInfo {
  name: string;
  description: string | null;
}

/** GET /api/workflows/:name */
export interface WorkflowDetail extends WorkflowInfo {
  runs: RunSummary[];
}

export interface QueueStats {
  queue: string;
  provider: string;
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
  oldestWaitingAgeMs: number | null;
  /** Whether the provider can list its jobs by state. */
  inspectable: boolean;
  /** Set when the provider's stats failed. */
  error: string | null;
}

export interface QueueJob {
  id: string;
  queue: string;
  name: string;
  payload: unknown;
  priority: number;
  runAtMs: number;
  attempt: number;
  maxAttempts: number;
  createdAtMs: number;
  lastError: string | null;
  metadata?: Record<string, unknown>;
  dedupKey?: string | null;
}

export interface DeadLetterInfo {
  job: QueueJob;
  error: string;
  deadAtMs: number;
}

export interface QueueWorker {
  id: string;
  provider: string;
  queues: string[];
  running: boolean;
  concurrency: number;
  leaseMs: number;
  inFlight: { jobId: string; queue: string; name: string; attempt: number; startedAtMs: number; leaseUntilMs: number }[];
}

export interface EngineWorker {
  id: string;
  local: boolean;
  runs: { runId: string; name: string; kind: string; leaseUntilMs: number }[];
}

/** GET /api/workers */
export interface WorkersView {
  queueWorkers: QueueWorker[];
  engineWorkers: EngineWorker[];
}

export interface EventInfo {
  id: number;
  name: string;
  payload: unknown;
  emittedAtMs: number;
  deploymentsStarted: number;
  runsDelivered: number;
}

/** POST /api/events */
export interface EmitResult {
  eventId: number;
  started: { deployment: string; state: string; runId: string | null }[];
  delivered: number;
}

export interface LaneOverview {
  lane: Lane;
  running: boolean;
  lastHour: Record<string, number>;
  last24h: Record<string, number>;
  failures24h: number;
  late24h: number;
  missed24h: number;
  misfits: number;
  queueDepth: { waiting: number; active: number; delayed: number; dead: number } | null;
}

/** GET /api/overview */
export interface Overview {
  generatedAtMs: number;
  leader: boolean;
  lanes: LaneOverview[];
}

export interface ExplainResult {
  lane: Lane;
  reasons: string[];
}
