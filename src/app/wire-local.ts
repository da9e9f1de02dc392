import type { LocalScheduler } from '../local/scheduler.js';
import { alert, errorData, LATE_THRESHOLD_MS, safely, type WireContext } from './wiring.js';

/** The local lane's events → metrics (runs, lateness, misfires, misfits), alerts, live stream, overview. */
export function wireLocal(scheduler: LocalScheduler, ctx: WireContext): () => void {
  const { metrics, live, activity } = ctx;
  const offs = [
    scheduler.events.on('job_executed', (e) => {
      safely(ctx, 'local executed', () => {
        metrics.runFinished({ lane: 'local', state: 'Completed', durationMs: e.durationMs });
        metrics.fireLate({ lane: 'local', lateMs: e.lateMs });
      });
      activity.record('local', 'Completed');
      if (e.lateMs > LATE_THRESHOLD_MS) activity.record('local', 'late');
      live.publish('local.job_executed', { jobId: e.jobId, name: e.name, scheduledMs: e.scheduledMs, lateMs: e.lateMs, durationMs: e.durationMs, result: e.result });
    }),
    scheduler.events.on('job_error', (e) => {
      safely(ctx, 'local error', () => {
        metrics.runFinished({ lane: 'local', state: e.state, durationMs: e.durationMs });
        metrics.fireLate({ lane: 'local', lateMs: e.lateMs });
      });
      activity.record('local', e.state);
      live.publish('local.job_error', { jobId: e.jobId, name: e.name, state: e.state, durationMs: e.durationMs, error: errorData(e.error) });
      alert(ctx, { kind: 'run_failed', lane: 'local', subject: e.name, error: e.error, details: { jobId: e.jobId, state: e.state } });
    }),
    scheduler.events.on('job_missed', (e) => {
      safely(ctx, 'local missed', () => {
        // Capped: a long outage must not turn into a million counter calls.
        for (let i = 0; i < Math.min(e.count, 1_000); i += 1) metrics.misfire({ lane: 'local' });
        metrics.runFinished({ lane: 'local', state: 'Missed' });
      });
      activity.record('local', 'missed', e.count);
      activity.record('local', 'Missed', e.count);
      live.publish('local.job_missed', { jobId: e.jobId, name: e.name, count: e.count, lateMs: e.lateMs, coalesced: e.coalesced });
      if (!e.coalesced) alert(ctx, { kind: 'missed_schedule', lane: 'local', subject: e.name, details: { jobId: e.jobId, count: e.count, lateMs: Math.round(e.lateMs) } });
    }),
    scheduler.events.on('job_misfit', (e) => {
      safely(ctx, 'local misfit', () => metrics.misfit({ suggestedLane: e.suggestedLane }));
      activity.record('local', 'misfit');
      live.publish('local.job_misfit', { jobId: e.jobId, name: e.name, reason: e.reason, durationMs: e.durationMs, suggestedLane: e.suggestedLane, message: e.message });
      alert(ctx, { kind: 'misfit', lane: 'local', subject: e.name, details: { reason: e.reason, suggestedLane: e.suggestedLane, message: e.message } });
    }),
    scheduler.events.on('job_max_instances', (e) => {
      live.publish('local.job_skipped', { jobId: e.jobId, name: e.name, running: e.running, maxInstances: e.maxInstances });
    }),
    scheduler.events.on('job_paused', (e) => live.publish('local.job_paused', { jobId: e.jobId, name: e.name })),
    scheduler.events.on('job_resumed', (e) => live.publish('local.job_resumed', { jobId: e.jobId, name: e.name, nextRunMs: e.nextRunMs })),
  ];
  return () => {
    for (const off of offs) off();
  };
}
