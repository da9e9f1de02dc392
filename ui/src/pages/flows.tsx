import type { JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import { eventField, isRunEvent } from '../api/live';
import type { FlowInfo, RunDetail, RunSummary } from '../api/types';
import { ActionResult, Empty, ErrorBox, Link, Loading, PageHead, RelTime, Section, StateBadge, duration, parseJsonField } from '../components/common';
import { Dag } from '../components/dag';
import { Gantt } from '../components/gantt';
import { RunGrid } from '../components/run-grid';
import { useAction, useLiveEvents, useNow, useResource } from '../hooks';
import { navigate } from '../router';
import { listItems, runIdOf } from './shared';

/** Flows: every flow with its last run; one flow's graph, grid of runs, Gantt and run form. */

const GRID_RUNS = 15;

export function FlowsPage(): JSX.Element {
  const flows = useResource((signal) => api<unknown>('/api/flows', { signal }).then((b) => listItems<FlowInfo>(b)), [], { liveWhen: isRunEvent });
  return (
    <div>
      <PageHead title="Flows" subtitle="DAGs of tasks with history: each task journaled, a crashed run resumes where it stopped." />
      <Section title="Flows">
        <ErrorBox error={flows.error} />
        {flows.data === undefined ? (
          flows.error === null && <Loading />
        ) : flows.data.length === 0 ? (
          <Empty>No flows are registered in this process.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>flow</th>
                <th>tasks</th>
                <th>last run</th>
                <th>state</th>
              </tr>
            </thead>
            <tbody>
              {flows.data.map((flow) => (
                <tr key={flow.name}>
                  <td>
                    <Link href={`/flows/${seg(flow.name)}`}>{flow.name}</Link>
                    {flow.description != null && <div class="muted small">{flow.description}</div>}
                  </td>
                  <td>{flow.tasks.length}</td>
                  <td>{flow.lastRun == null ? <span class="muted">never</span> : <RelTime ms={flow.lastRun.createdMs} />}</td>
                  <td>{flow.lastRun == null ? '' : <StateBadge state={flow.lastRun.state} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

async function loadRecentRuns(name: string, signal: AbortSignal): Promise<RunDetail[]> {
  const page = await api<unknown>(`/api/flows/${seg(name)}/runs`, { query: { limit: GRID_RUNS }, signal });
  const runs = listItems<RunSummary>(page);
  return Promise.all(runs.slice(0, GRID_RUNS).map((run) => api<RunDetail>(`/api/runs/${seg(run.id)}`, { signal })));
}

export function FlowPage(props: { name: string }): JSX.Element {
  const now = useNow(1_000);
  const flow = useResource((signal) => api<FlowInfo>(`/api/flows/${seg(props.name)}`, { signal }), [props.name]);
  const forThisFlow = (e: Parameters<typeof isRunEvent>[0]): boolean => isRunEvent(e) && (eventField(e, 'name') === props.name || eventField(e, 'runId') !== null);
  const runs = useResource((signal) => loadRecentRuns(props.name, signal), [props.name], { liveWhen: forThisFlow });
  const [selectedRunId, setSelectedRunId] = useState<string | null>(null);
  // Step states pushed by the stream since the last fetch, so the graph recolours at once.
  const [liveSteps, setLiveSteps] = useState<Map<string, Map<string, string>>>(new Map());

  useLiveEvents((event) => {
    const runId = eventField(event, 'runId');
    const stepKey = eventField(event, 'stepKey');
    const state = eventField(event, 'state');
    if (runId === null || stepKey === null || state === null) return;
    setLiveSteps((previous) => {
      const next = new Map(previous);
      const steps = new Map(next.get(runId) ?? []);
      steps.set(stepKey, state);
      next.set(runId, steps);
      return next;
    });
  });

  const shownRun = useMemo(() => {
    const list = runs.data ?? [];
    return list.find((r) => r.run.id === selectedRunId) ?? list[0] ?? null;
  }, [runs.data, selectedRunId]);

  const states = useMemo(() => {
    const map = new Map<string, string>();
    if (shownRun === null) return map;
    for (const step of shownRun.steps) map.set(step.key, step.state);
    // A fetched state is authoritative once it is terminal; until then the stream is newer.
    for (const [key, state] of liveSteps.get(shownRun.run.id) ?? []) {
      const fetched = map.get(key);
      if (fetched === undefined || !['Completed', 'Failed', 'Cancelled', 'Skipped', 'TimedOut', 'Crashed'].includes(fetched)) map.set(key, state);
    }
    return map;
  }, [shownRun, liveSteps]);

  if (flow.error !== null && flow.data === undefined) return <ErrorBox error={flow.error} title={`Flow ${props.name}`} />;
  if (flow.data === undefined) return <Loading what={`flow ${props.name}`} />;
  const info = flow.data;

  return (
    <div>
      <PageHead
        title={info.name}
        subtitle={
          <>
            <Link href="/flows">Flows</Link> · {info.tasks.length} tasks{info.description != null ? ` · ${info.description}` : ''}
          </>
        }
      />
      <Section
        title="Graph"
        actions={
          shownRun !== null && (
            <span class="graph-run">
              showing run <Link href={`/runs/${seg(shownRun.run.id)}`}>{shortId(shownRun.run.id)}</Link> <StateBadge state={shownRun.run.state} />{' '}
              <span class="muted">{duration(shownRun.run.startedMs, shownRun.run.endedMs, now)}</span>
            </span>
          )
        }
      >
        <Dag tasks={info.tasks} states={states} />
        <Legend />
      </Section>
      <div class="grid-2 wide-left">
        <Section title={`Recent runs (${runs.data?.length ?? 0})`}>
          <ErrorBox error={runs.error} />
          {runs.data === undefined ? runs.error === null && <Loading what="runs" /> : <RunGrid tasks={info.tasks} runs={runs.data} selectedRunId={shownRun?.run.id ?? null} onSelectRun={setSelectedRunId} />}
        </Section>
        <RunFlowForm name={info.name} onStarted={(id) => {
          setSelectedRunId(id);
          runs.reload();
        }} />
      </div>
      <Section title="Gantt">{shownRun === null ? <Empty>No runs yet.</Empty> : <Gantt steps={shownRun.steps} nowMs={now} />}</Section>
    </div>
  );
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 10)}…` : id;
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
      const body = await api<unknown>(`/api/flows/${seg(props.name)}/runs`, { method: 'POST', body: { params: parsed.value ?? {} } });
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

/** Opens a run's page. */
export function openRun(id: string): void {
  navigate(`/runs/${seg(id)}`);
}
