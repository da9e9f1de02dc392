/**
 * The one state machine that runs, jobs and schedules move through, with the names Prefect users
 * know. Every transition is an event that feeds the UI, the metrics and the alerts.
 *
 *   Scheduled → Pending → Running → Completed
 *                              ↘ Retrying → Running …
 *                              ↘ Failed | TimedOut | Cancelled | Crashed
 *   Running → Waiting (durable sleep, event wait) → Running
 *   Scheduled → Missed (the fire time passed beyond its grace time) | Skipped (overlap policy)
 */
export const RunState = {
  Scheduled: 'Scheduled',
  Pending: 'Pending',
  Running: 'Running',
  Waiting: 'Waiting',
  Retrying: 'Retrying',
  Completed: 'Completed',
  Failed: 'Failed',
  TimedOut: 'TimedOut',
  Cancelled: 'Cancelled',
  Crashed: 'Crashed',
  Skipped: 'Skipped',
  Missed: 'Missed',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

export const TERMINAL_STATES: ReadonlySet<RunState> = new Set<RunState>([
  RunState.Completed,
  RunState.Failed,
  RunState.TimedOut,
  RunState.Cancelled,
  RunState.Crashed,
  RunState.Skipped,
  RunState.Missed,
]);

export function isTerminal(state: RunState): boolean {
  return TERMINAL_STATES.has(state);
}

/** The four lanes. */
export const Lane = { Local: 'local', Queue: 'queue', Flow: 'flow', Workflow: 'workflow' } as const;
export type Lane = (typeof Lane)[keyof typeof Lane];
