import { isTerminal, RunState } from '../core/states.js';
import type { Engine } from '../engine/runtime/engine.js';
import { alert, safely, type WireContext } from './wiring.js';

const FAILED: readonly RunState[] = [RunState.Failed, RunState.TimedOut, RunState.Crashed];

/**
 * The engine's run and step transitions (this process's) → metrics (runs by lane flow|workflow and
 * their durations, retries), alerts (failed runs), the live stream. Durations are measured from the
 * Running transition this process saw; a run resumed from another worker reports no duration.
 */
export function wireEngine(engine: Engine, ctx: WireContext): () => void {
  const { metrics, live, activity } = ctx;
  const startedAt = new Map<string, number>();
  const offs = [
    engine.events.on('run_state', (e) => {
      if (e.state === RunState.Running && !startedAt.has(e.runId)) startedAt.set(e.runId, e.atMs);
      live.publish('run.state', { runId: e.runId, name: e.name, kind: e.kind, state: e.state, previous: e.previous, deploymentId: e.deploymentId, atMs: e.atMs });
      if (!isTerminal(e.state)) return;
      const started = startedAt.get(e.runId);
      startedAt.delete(e.runId);
      safely(ctx, 'engine run', () => metrics.runFinished({ lane: e.kind, state: e.state, ...(started === undefined ? {} : { durationMs: e.atMs - started }) }));
      // The overview reads flow and workflow counts from the store; this feeds only its failures list.
      if (FAILED.includes(e.state)) {
        activity.record(e.kind, 'failed');
        void engine
          .getRun(e.runId)
          .then((run) => alert(ctx, { kind: 'run_failed', lane: e.kind, subject: e.name, runId: e.runId, attempt: run.attempt, error: run.error ?? e.state, details: { state: e.state } }))
          .catch(() => alert(ctx, { kind: 'run_failed', lane: e.kind, subject: e.name, runId: e.runId, error: e.state }));
      }
    }),
    engine.events.on('step_state', (e) => {
      const lane = e.kind === 'task' ? 'flow' : 'workflow';
      if (e.state === RunState.Retrying) safely(ctx, 'engine retry', () => metrics.retry({ lane }));
      live.publish('step.state', { runId: e.runId, stepKey: e.stepKey, kind: e.kind, state: e.state, attempt: e.attempt, atMs: e.atMs });
    }),
    engine.events.on('log', (e) => {
      live.publish('run.log', { runId: e.runId, stepKey: e.stepKey, level: e.level, message: e.message, atMs: e.atMs });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
