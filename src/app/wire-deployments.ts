import type { Deployments } from '../engine/deployments/deployments.js';
import { FireState } from '../engine/deployments/types.js';
import type { DeploymentScheduler } from '../engine/scheduler/scheduler.js';
import { alert, LATE_THRESHOLD_MS, safely, type WireContext } from './wiring.js';

/**
 * Deployment fires → metrics (fire lateness of scheduled starts, misfires), alerts (missed
 * schedules, metric-threshold starts), the live stream, the overview; leader changes → the leader
 * gauge. Fires carry the deployment, not its lane, so the lane (flow or workflow) is looked up once
 * per deployment and cached.
 */
export function wireDeployments(deployments: Deployments, scheduler: DeploymentScheduler | null, ctx: WireContext): () => void {
  const { metrics, live, activity } = ctx;
  const laneOf = new Map<string, 'flow' | 'workflow'>();
  const lookupLane = async (deploymentId: string): Promise<'flow' | 'workflow'> => {
    const known = laneOf.get(deploymentId);
    if (known !== undefined) return known;
    const deployment = await deployments.repository.getById(deploymentId);
    const lane = deployment?.target.kind ?? 'flow';
    laneOf.set(deploymentId, lane);
    return lane;
  };
  const offs = [
    deployments.events.on('fire', (e) => {
      live.publish('deployment.fire', { ...e });
      void lookupLane(e.deploymentId)
        .then((lane) => {
          if (e.state === FireState.Started && (e.origin === 'schedule' || e.origin === 'backfill')) {
            const lateMs = e.atMs - e.fireMs;
            if (e.origin === 'schedule') {
              safely(ctx, 'fire lateness', () => metrics.fireLate({ lane, lateMs }));
              if (lateMs > LATE_THRESHOLD_MS) activity.record(lane, 'late');
            }
          }
          if (e.state === FireState.Missed) {
            safely(ctx, 'fire missed', () => {
              metrics.misfire({ lane });
              metrics.runFinished({ lane, state: 'Missed' });
            });
            activity.record(lane, 'missed');
            alert(ctx, { kind: 'missed_schedule', lane, subject: e.deploymentName, details: { fireMs: e.fireMs, reason: e.reason } });
          }
          if (e.origin === 'metric' && e.state === FireState.Started) {
            alert(ctx, { kind: 'threshold_trigger', lane, subject: e.deploymentName, ...(e.runId === null ? {} : { runId: e.runId }), details: { fireMs: e.fireMs } });
          }
        })
        .catch((error: unknown) => ctx.logger.warn({ err: error, deployment: e.deploymentName }, 'fire wiring failed'));
    }),
    deployments.events.on('missedSummary', (e) => {
      live.publish('deployment.missed_summary', { ...e });
      alert(ctx, { kind: 'missed_schedule', lane: 'flow', subject: e.deploymentName, details: { fromMs: e.fromMs, toMs: e.toMs, summary: true } });
    }),
    deployments.events.on('leader', (e) => {
      safely(ctx, 'leader', () => metrics.setLeader(e.leader));
      live.publish('scheduler.leader', { ...e });
    }),
  ];
  if (scheduler !== null) safely(ctx, 'leader', () => metrics.setLeader(scheduler.isLeader));
  return () => {
    for (const off of offs) off();
  };
}
