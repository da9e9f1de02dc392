import { Fragment, type JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import { eventField } from '../api/live';
import { isTerminal, type FlowDetail, type RecordedError, type RunDetail, type StepRecord } from '../api/types';
import { ActionButton, ActionResult, Empty, ErrorBox, Json, Link, Loading, PageHead, RelTime, Section, StateBadge, cssName, duration, formatTime } from '../components/common';
import { Dag } from '../components/dag';
import { Gantt } from '../components/gantt';
import { useAction, useNow, useResource } from '../hooks';
import { taskOfStep } from './shared';
import { SendSignalForm, Timeline } from './workflow-parts';
import { RunsTable } from '../components/runs-table';

/** Run detail: state, inputs, outputs, error with stack, tasks/steps, logs; retry, cancel, signal. */

export function RunPage(props: { id: string }): JSX.Element {
  const now = useNow(1_000);
  const detail = useResource((signal) => api<RunDetail>(`/api/runs/${seg(props.id)}`, { signal }), [props.id], {
    liveWhen: (e) => eventField(e, 'runId') === props.id,
  });
  const kind = detail.data?.run.kind;
  const name = detail.data?.run.name;
  const flow = useResource(
    (signal) => (kind === 'flow' && name !== undefined ? api<FlowDetail>(`/api/flows/${seg(name)}`, { query: { runs: 1 }, signal }) : Promise.resolve(null)),
    [kind, name],
  );

  if (detail.data === undefined) return detail.error !== null ? <ErrorBox error={detail.error} title={`Run ${props.id}`} /> : <Loading what="run" />;
  const { run, steps, timeline, children } = detail.data;
  const logs = timeline.filter((e) => e.type === 'log');
  const states = new Map(steps.map((s) => [taskOfStep(s.key), s.state]));

  return (
    <div>
      <PageHead
        title={run.name}
        subtitle={
          <>
            <Link href={run.kind === 'flow' ? `/flows/${seg(run.name)}` : `/workflows/${seg(run.name)}`}>{run.kind}</Link> run <code class="run-id">{run.id}</code> <StateBadge state={run.state} />
          </>
        }
        actions={<RunActions id={run.id} state={run.state} onDone={detail.reload} />}
      />
      <div class="facts">
        <Fact label="created" value={formatTime(run.createdMs)} />
        <Fact label="started" value={formatTime(run.startedMs)} />
        <Fact label="ended" value={formatTime(run.endedMs)} />
        <Fact label="duration" value={duration(run.startedMs, run.endedMs, now)} />
        <Fact label="attempt" value={String(run.attempt)} />
        {run.wakeMs != null && <Fact label="wakes" value={<RelTime ms={run.wakeMs} now={now} />} />}
        {run.parentRunId != null && <Fact label="parent" value={<Link href={`/runs/${seg(run.parentRunId)}`}>{run.parentRunId}</Link>} />}
        {run.tags.length > 0 && <Fact label="tags" value={run.tags.join(', ')} />}
      </div>
      {run.error != null && <ErrorPanel error={run.error} title="Run error" />}
      {run.kind === 'flow' && flow.data != null && (
        <Section title="Graph">
          <Dag tasks={flow.data.graph.nodes} states={states} />
        </Section>
      )}
      {run.kind === 'workflow' && (
        <Section title="Timeline">
          <Timeline steps={steps} events={timeline} nowMs={now} />
        </Section>
      )}
      <div class="grid-2">
        <Section title="Inputs">
          <Json value={run.params} />
        </Section>
        <Section title="Output">
          <Json value={run.result} empty={isTerminal(run.state) ? 'none' : 'not finished'} />
        </Section>
      </div>
      <Section title={run.kind === 'flow' ? 'Tasks' : 'Steps'}>
        <Steps steps={steps} now={now} />
      </Section>
      {run.kind === 'flow' && (
        <Section title="Gantt">
          <Gantt steps={steps} nowMs={now} />
        </Section>
      )}
      {children.length > 0 && (
        <Section title={`Child runs (${children.length})`}>
          <RunsTable runs={children} now={now} />
        </Section>
      )}
      {run.kind === 'workflow' && !isTerminal(run.state) && <SendSignalForm runId={run.id} onSent={detail.reload} />}
      <Section title={`Logs (${logs.length})`}>
        {logs.length === 0 ? (
          <Empty>No log lines.</Empty>
        ) : (
          <div class="logs" role="log">
            {logs.map((line) => (
              <div key={line.id} class={`log-line level-${cssName(line.level ?? 'info')}`}>
                <span class="log-time">{formatTime(line.atMs)}</span>
                <span class="log-level">{line.level ?? 'info'}</span>
                {line.stepKey !== null && <span class="log-step">{line.stepKey}</span>}
                <span class="log-msg">{line.message ?? ''}</span>
                {line.data !== undefined && line.data !== null && <span class="log-data">{JSON.stringify(line.data)}</span>}
              </div>
            ))}
          </div>
        )}
      </Section>
    </div>
  );
}

function Fact(props: { label: string; value: JSX.Element | string }): JSX.Element {
  return (
    <div class="fact">
      <div class="fact-label">{props.label}</div>
      <div class="fact-value">{props.value}</div>
    </div>
  );
}

export function ErrorPanel(props: { error: RecordedError; title: string }): JSX.Element {
  return (
    <div class="error-panel">
      <div class="error-title">
        {props.title}: <strong>{props.error.name}</strong>
        {props.error.code !== undefined && <code> {props.error.code}</code>}
      </div>
      <div class="error-message">{props.error.message}</div>
      {props.error.stack !== undefined && (
        <details>
          <summary>stack</summary>
          <pre class="stack">{props.error.stack}</pre>
        </details>
      )}
      {props.error.details !== undefined && (
        <details>
          <summary>details</summary>
          <Json value={props.error.details} />
        </details>
      )}
    </div>
  );
}

function Steps(props: { steps: readonly StepRecord[]; now: number }): JSX.Element {
  const [open, setOpen] = useState<string | null>(null);
  const ordered = useMemo(() => [...props.steps].sort((a, b) => (a.startedMs ?? Infinity) - (b.startedMs ?? Infinity)), [props.steps]);
  if (ordered.length === 0) return <Empty>Nothing has run yet.</Empty>;
  return (
    <table class="table steps">
      <thead>
        <tr>
          <th>key</th>
          <th>kind</th>
          <th>state</th>
          <th>attempt</th>
          <th>started</th>
          <th>duration</th>
        </tr>
      </thead>
      <tbody>
        {ordered.map((step) => (
          <Fragment key={step.key}>
            <tr class="clickable" data-step={step.key} onClick={() => setOpen(open === step.key ? null : step.key)}>
              <td>
                <span class="disclosure">{open === step.key ? '▾' : '▸'}</span> {step.key}
                {step.cached === true && <span class="tag">cached</span>}
              </td>
              <td>{step.kind}</td>
              <td>
                <StateBadge state={step.state} />
              </td>
              <td>{step.attempt}</td>
              <td>{formatTime(step.startedMs)}</td>
              <td>{duration(step.startedMs, step.endedMs, props.now)}</td>
            </tr>
            {open === step.key && (
              <tr class="step-detail">
                <td colSpan={6}>
                  <div class="grid-2">
                    <div>
                      <h3>input</h3>
                      <Json value={step.input} />
                    </div>
                    <div>
                      <h3>output</h3>
                      <Json value={step.output} />
                    </div>
                  </div>
                  {step.error != null && <ErrorPanel error={step.error} title="Error" />}
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

function RunActions(props: { id: string; state: string; onDone: () => void }): JSX.Element {
  const action = useAction();
  const act = (what: 'cancel' | 'retry'): void =>
    action.run(async () => {
      await api(`/api/runs/${seg(props.id)}/${what}`, { method: 'POST', body: {} });
      props.onDone();
    }, what === 'cancel' ? 'Cancel requested.' : 'Retry started.');
  const terminal = isTerminal(props.state);
  return (
    <div class="row">
      <ActionResult error={action.error} message={action.message} />
      {!terminal && <ActionButton label="Cancel" kind="danger" busy={action.busy} onClick={() => act('cancel')} />}
      {terminal && props.state !== 'Completed' && <ActionButton label="Retry" kind="primary" busy={action.busy} onClick={() => act('retry')} />}
    </div>
  );
}
