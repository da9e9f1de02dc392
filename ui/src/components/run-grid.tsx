import type { JSX } from 'preact';
import type { FlowNode, GridRow } from '../api/types';
import { cssName, formatTime } from './common';

/**
 * Airflow's grid: one column per recent run (oldest left), one row per task, each cell coloured by
 * that task's state in that run. The top row is the run itself. Clicking a cell shows that run on
 * the graph and the Gantt chart.
 */
export function RunGrid(props: { tasks: readonly FlowNode[]; rows: readonly GridRow[]; selectedRunId: string | null; onSelectRun: (id: string) => void }): JSX.Element {
  const rows = [...props.rows].reverse();
  if (rows.length === 0) return <div class="empty">No runs yet.</div>;
  return (
    <div class="grid-scroll">
      <table class="run-grid">
        <thead>
          <tr>
            <th class="grid-label">run</th>
            {rows.map((row) => (
              <th key={row.run.id}>
                <Cell state={row.run.state} title={`run ${row.run.id}: ${row.run.state} · ${formatTime(row.run.createdMs)}`} selected={row.run.id === props.selectedRunId} onSelect={() => props.onSelectRun(row.run.id)} tall />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.tasks.map((task) => (
            <tr key={task.id}>
              <th class="grid-label" title={task.id}>
                {task.id}
              </th>
              {rows.map((row) => {
                const state = row.tasks[task.id] ?? 'NotStarted';
                return (
                  <td key={row.run.id}>
                    <Cell state={state} title={`${task.id}: ${state === 'NotStarted' ? 'not started' : state} · run ${row.run.id}`} selected={false} onSelect={() => props.onSelectRun(row.run.id)} />
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

function Cell(props: { state: string; title: string; tall?: boolean; selected: boolean; onSelect: () => void }): JSX.Element {
  const cls = `grid-cell state-${cssName(props.state)}${props.tall === true ? ' tall' : ''}${props.selected ? ' selected' : ''}`;
  return <button type="button" class={cls} title={props.title} aria-label={props.title} data-state={props.state} onClick={props.onSelect} />;
}
