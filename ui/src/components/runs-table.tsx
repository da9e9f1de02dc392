import type { JSX } from 'preact';
import { seg } from '../api/client';
import type { RunSummary } from '../api/types';
import { Empty, Link, RelTime, StateBadge, duration } from './common';

/** A page of runs, newest first; each row links to the run. */
export function RunsTable(props: { runs: readonly RunSummary[]; now: number; showKind?: boolean }): JSX.Element {
  if (props.runs.length === 0) return <Empty>No runs match.</Empty>;
  return (
    <table class="table runs">
      <thead>
        <tr>
          <th>run</th>
          {props.showKind !== false && <th>kind</th>}
          <th>name</th>
          <th>state</th>
          <th>created</th>
          <th>duration</th>
          <th>attempt</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map((run) => (
          <tr key={run.id} data-run={run.id}>
            <td>
              <Link href={`/runs/${seg(run.id)}`} class="mono">
                {run.id.length > 14 ? `${run.id.slice(0, 12)}…` : run.id}
              </Link>
            </td>
            {props.showKind !== false && <td>{run.kind}</td>}
            <td>
              <Link href={`/${run.kind === 'flow' ? 'flows' : 'workflows'}/${seg(run.name)}`}>{run.name}</Link>
            </td>
            <td>
              <StateBadge state={run.state} />
              {run.error != null && <span class="muted small" title={run.error.message}> {run.error.name}</span>}
            </td>
            <td>
              <RelTime ms={run.createdMs} now={props.now} />
            </td>
            <td>{duration(run.startedMs, run.endedMs, props.now)}</td>
            <td>{run.attempt}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
