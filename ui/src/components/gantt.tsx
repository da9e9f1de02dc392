import type { JSX } from 'preact';
import type { StepRecord } from '../api/types';
import { cssName, formatMs } from './common';

/**
 * One run's tasks or steps on a time axis: a bar from start to end (to now while running), in
 * start order. Steps that never started are listed without a bar.
 */
export function Gantt(props: { steps: readonly StepRecord[]; nowMs: number }): JSX.Element {
  const started = props.steps.filter((s) => s.startedMs !== null);
  if (started.length === 0) return <div class="empty">No task has started yet.</div>;
  const t0 = Math.min(...started.map((s) => s.startedMs ?? 0));
  const t1 = Math.max(...started.map((s) => s.endedMs ?? props.nowMs), t0 + 1);
  const spanMs = t1 - t0;
  const rows = [...props.steps].sort((a, b) => (a.startedMs ?? Number.MAX_SAFE_INTEGER) - (b.startedMs ?? Number.MAX_SAFE_INTEGER));
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="gantt">
      <div class="gantt-row gantt-axis">
        <div class="gantt-label" />
        <div class="gantt-track">
          {ticks.map((t) => (
            <span key={t} class="gantt-tick" style={{ left: `${t * 100}%` }}>
              {formatMs(spanMs * t)}
            </span>
          ))}
        </div>
      </div>
      {rows.map((step) => {
        const start = step.startedMs;
        const end = step.endedMs ?? props.nowMs;
        const title = `${step.key}: ${step.state}${start === null ? '' : ` · ${formatMs(end - start)}`}${step.attempt > 1 ? ` · attempt ${step.attempt}` : ''}`;
        return (
          <div class="gantt-row" key={step.key} data-step={step.key}>
            <div class="gantt-label" title={step.key}>
              {step.key}
            </div>
            <div class="gantt-track">
              {start !== null && (
                <div
                  class={`gantt-bar state-${cssName(step.state)}`}
                  title={title}
                  style={{ left: `${((start - t0) / spanMs) * 100}%`, width: `${Math.max(0.4, ((end - start) / spanMs) * 100)}%` }}
                />
              )}
            </div>
            <div class="gantt-dur">{start === null ? step.state : formatMs(end - start)}</div>
          </div>
        );
      })}
    </div>
  );
}
