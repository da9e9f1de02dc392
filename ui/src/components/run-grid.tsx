import type { JSX } from 'preact';
import type { FlowTask, RunDetail } from '../api/types';
import { cssName, Link, formatTime } from './common';

/**
 * Airflow's grid: one column per recent run (oldest left), one row per task, each cell coloured by
 * that task's state in that run. The top row is the run itself; every cell links to the run.
 */
export function RunGrid(props: { tasks: readonly FlowTask[]; runs: readonly RunDetail[]; selectedRunId?: string | null; onSelectRun?: (id: string) => void }): JSX.Element {
  const runs = [...props.runs].reverse();
  if (runs.length === 0) return <div class="empty">No runs yet.</div>;
  const stepState = runs.map((r) => new Map(r.steps.map((s) => [s.key, s.state])));
  return (
    <div class="grid-scroll">
      <table class="run-grid">
        <thead>
          <tr>
            <th class="grid-label">run</th>
            {runs.map((detail) => (
              <th key={detail.run.id}>
                <Cell state={detail.run.state} title={`${detail.run.state} · ${formatTime(detail.run.createdMs)}`} href={`/runs/${encodeURIComponent(detail.run.id)}`} selected={detail.run.id === props.selectedRunId} onSelect={props.onSelectRun === undefined ? undefined : () => props.onSelectRun?.(detail.run.id)} tall />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.tasks.map((task) => (
            <tr key={task.key}>
              <th class="grid-label" title={task.key}>
                {task.key}
              </th>
              {runs.map((detail, i) => {
                const state = stepState[i]?.get(task.key) ?? 'NotStarted';
                return (
                  <td key={detail.run.id}>
                    <Cell state={state} title={`${task.key}: ${state} · run ${detail.run.id}`} href={`/runs/${encodeURIComponent(detail.run.id)}`} />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Cell(props: { state: string; title: string; href: string; tall?: boolean; selected?: boolean; onSelect?: (() => void) | undefined }): JSX.Element {
  const cls = `grid-cell state-${cssName(props.state)}${props.tall === true ? ' tall' : ''}${props.selected === true ? ' selected' : ''}`;
  if (props.onSelect !== undefined) {
    return <button type="button" class={cls} title={props.title} aria-label={props.title} onClick={props.onSelect} />;
  }
  return (
    <Link href={props.href} class={cls} title={props.title}>
      <span class="sr-only">{props.title}</span>
    </Link>
  );
}
