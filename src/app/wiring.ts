import type { Logger } from '../core/logger.js';
import type { Alert } from '../alerts/alert.js';
import type { Alerter } from '../alerts/alerter.js';
import type { MetricsRecorder } from '../metrics/metrics.js';
import type { LaneActivity } from './activity.js';
import type { LiveEventHub } from './live-events.js';

/** What every lane's wiring reports to: metrics, alerts (when configured), the live stream, the overview counts. */
export interface WireContext {
  metrics: MetricsRecorder;
  alerter: Alerter | null;
  live: LiveEventHub;
  activity: LaneActivity;
  logger: Logger;
}

/** A fire this much later than its time counts as `late` on the overview. */
export const LATE_THRESHOLD_MS = 1_000;

/** Sends an alert when an alerter is configured; `notify` never rejects, so nothing to await. */
export function alert(ctx: WireContext, value: Alert): void {
  if (ctx.alerter !== null) void ctx.alerter.notify(value);
}

/** A metric call must never break a lane's event flow: a bad label is logged, not thrown. */
export function safely(ctx: WireContext, what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    ctx.logger.warn({ err: error, what }, 'metrics wiring failed');
  }
}

/** Errors become `{ name, message }` on the live stream (JSON-safe, no stack). */
export function errorData(error: Error): { name: string; message: string; code?: string } {
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
