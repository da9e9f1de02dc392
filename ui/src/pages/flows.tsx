import type { JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import { eventField, isRunEvent } from '../api/live';
import { isTerminal, type FlowDetail, type FlowInfo, type RunDetail } from '../api/types';
import { ActionResult, Empty, ErrorBox, Link, Loading, PageHead, Section, StateBadge, duration, parseJsonField } from '../components/common';
import { Dag } from '../components/dag';
import { Gantt } from '../components/gantt';
import { RunGrid } from '../components/run-grid';
import { useAction, useLiveEvents, useNow, useResource } from '../hooks';
import { runIdOf, taskOfStep } from './shared';

/** Flows: every flow; one flow's graph (live), grid of recent runs, Gantt of one run, run form. */

const GRID_RUNS = 20;

export function FlowsPage(): JSX.Element {
  const flows = useResource((signal) => api<{ flows: FlowInfo[] }>('/api/flows', { signal }), []);
  return (
    <div>
      <PageHead title="Flows" subtitle="DAGs of tasks with history: each task journaled, a crashed run resumes where it stopped." />
      <Section title="Flows">
        <ErrorBox error={flows.error} />
        {flows.data === undefined ? (
          flows.error === null && <Loading />
        ) : flows.data.flows.length === 0 ? (
          <Empty>No flows are registered in this process.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>flow</th>
                <th>description</th>
                <th class="num">tasks</th>
              </tr>
            </thead>
            <tbody>
              {flows.data.flows.map((flow) => (
                <tr key={flow.name} data-flow={flow.name}>
                  <td>
                    <Link href={`/flows/${seg(flow.name)}`}>{flow.name}</Link>
                  </td>
                  <td class="muted">{flow.description ?? ''}</td>
                  <td class="num">{flow.graph.nodes.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

export function FlowPage(props: { name: string }): JSX.Element {
  const now = useNow(1_000);
  const flow = useResource((signal) => api<FlowDetail>(`/api/flows/${seg(props.name)}`, { query: { runs: GRID_RUNS }, signal }), [props.name], {
    liveWhen: (e) => isRunEvent(e) && (eventField(e, 'name') === props.name || e.type === 'step.state'),
  });
  const [selectedRunId, setSelectedRunId] = useState<string | null>(null);
  // Task states pushed by the stream since the last fetch, by run, so the graph recolours at once.
  const [liveStates, setLiveStates] = useState<ReadonlyMap<string, ReadonlyMap<string, string>>>(new Map());

  useLiveEvents((event) => {
    if (event.type !== 'step.state') return;
    const runId = eventField(event, 'runId');
    const stepKey = eventField(event, 'stepKey');
    const state = eventField(event, 'state');
    if (runId === null || stepKey === null || state === null) return;
    setLiveStates((previous) => {
      const next = new Map(previous);
      next.set(runId, new Map(next.get(runId) ?? []).set(taskOfStep(stepKey), state));
      return next;
    });
  });

  const grid = flow.data?.grid ?? [];
  // A run just started from the form is shown at once, before the grid has fetched it.
  const shownId = selectedRunId ?? grid[0]?.run.id ?? null;
  const shown = grid.find((row) => row.run.id === shownId) ?? null;
  const detail = useResource((signal) => (shownId === null ? Promise.resolve(null) : api<RunDetail>(`/api/runs/${seg(shownId)}`, { signal })), [shownId], {
    liveWhen: (e) => shownId !== null && eventField(e, 'runId') === shownId,
  });

  const states = useMemo(() => {
    const map = new Map<string, string>(Object.entries(shown?.tasks ?? {}));
    // The stream is newer than the last fetch, except that a fetched terminal state is final.
    for (const [task, state] of liveStates.get(shownId ?? '') ?? []) {
      const fetched = map.get(task);
      if (fetched === undefined || !isTerminal(fetched)) map.set(task, state);
    }
    return map;
  }, [shown, shownId, liveStates]);

  if (flow.data === undefined) return flow.error !== null ? <ErrorBox error={flow.error} title={`Flow ${props.name}`} /> : <Loading what={`flow ${props.name}`} />;
  const info = flow.data;
  const run = detail.data?.run.id === shownId ? detail.data.run : shown?.run;

  return (
    <div>
      <PageHead
        title={info.name}
        subtitle={
          <>
            <Link href="/flows">Flows</Link> · {info.graph.nodes.length} tasks{info.description !== null ? ` · ${info.description}` : ''}
          </>
        }
      />
      <Section
        title="Graph"
        actions={
          run !== undefined && (
            <span class="graph-run" data-run={run.id}>
              run <Link href={`/runs/${seg(run.id)}`}>{shortId(run.id)}</Link> <StateBadge state={run.state} /> <span class="muted">{duration(run.startedMs, run.endedMs, now)}</span>
            </span>
          )
        }
      >
        <Dag tasks={info.graph.nodes} states={states} />
        <Legend />
      </Section>
      <div class="grid-2 wide-left">
        <Section title={`Recent runs (${grid.length})`}>
          <RunGrid tasks={info.graph.nodes} rows={grid} selectedRunId={shownId} onSelectRun={setSelectedRunId} />
        </Section>
        <RunFlowForm
          name={info.name}
          onStarted={(id) => {
            setSelectedRunId(id);
            flow.reload();
          }}
        />
      </div>
      <Section title="Gantt">
        {shownId === null ? <Empty>No runs yet.</Empty> : detail.data?.run.id !== shownId ? <Loading what="run" /> : <Gantt steps={detail.data.steps} nowMs={now} />}
      </Section>
    </div>
  );
}

function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}

function Legend(): JSX.Element {
  return (
    <div class="legend">
      {['NotStarted', 'Pending', 'Running', 'Retrying', 'Completed', 'Failed', 'Skipped', 'Cancelled'].map((s) => (
        <span key={s} class="legend-item">
          <span class={`legend-swatch state-${s}`} />
          {s === 'NotStarted' ? 'not started' : s}
        </span>
      ))}
    </div>
  );
}

function RunFlowForm(props: { name: string; onStarted: (runId: string) => void }): JSX.Element {
  const [params, setParams] = useState('{}');
  const [formError, setFormError] = useState<string | null>(null);
  const action = useAction();
  const submit = (e: Event): void => {
    e.preventDefault();
    const parsed = parseJsonField(params, 'parameters');
    if (!parsed.ok) {
      setFormError(parsed.error);
      return;
    }
    setFormError(null);
    action.run(async () => {
      const body = await api<unknown>(`/api/flows/${seg(props.name)}/runs`, { method: 'POST', body: parsed.value === undefined ? {} : { params: parsed.value } });
      const id = runIdOf(body);
      if (id !== null) props.onStarted(id);
    }, 'Run started.');
  };
  return (
    <Section title="Run with parameters">
      <form class="form" onSubmit={submit} name="run-flow">
        <label>
          Parameters (JSON)
          <textarea name="params" rows={5} spellcheck={false} value={params} onInput={(e) => setParams(e.currentTarget.value)} />
        </label>
        {formError !== null && <div class="action-error">{formError}</div>}
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Starting…' : 'Run flow'}
          </button>
          <ActionResult error={action.error} message={action.message} />
        </div>
      </form>
    </Section>
  );
}
