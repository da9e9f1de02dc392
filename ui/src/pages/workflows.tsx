import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import { eventField } from '../api/live';
import type { EventInfo, RunDetail, WorkflowDetail, WorkflowInfo } from '../api/types';
import { ActionResult, Empty, ErrorBox, Link, Loading, PageHead, RelTime, Section, StateBadge, parseJsonField } from '../components/common';
import { RunsTable } from '../components/runs-table';
import { useAction, useNow, useResource } from '../hooks';
import { navigate } from '../router';
import { runIdOf } from './shared';
import { SendEventForm, Timeline } from './workflow-parts';

/** Workflows: durable, event-driven processes; their runs, the latest run's timeline, and events. */

export function WorkflowsPage(): JSX.Element {
  const now = useNow(5_000);
  const workflows = useResource((signal) => api<{ workflows: WorkflowInfo[] }>('/api/workflows', { signal }), []);
  const events = useResource((signal) => api<{ events: EventInfo[] }>('/api/events', { query: { limit: 20 }, signal }), [], {
    liveWhen: (e) => e.type === 'run.state' || e.type.startsWith('event') || e.type.startsWith('deployment'),
  });
  return (
    <div>
      <PageHead title="Workflows" subtitle="Long-running, event-driven processes: durable steps, sleeps, events and signals." />
      <div class="grid-2 wide-left">
        <Section title="Workflows">
          <ErrorBox error={workflows.error} />
          {workflows.data === undefined ? (
            workflows.error === null && <Loading />
          ) : workflows.data.workflows.length === 0 ? (
            <Empty>No workflows are registered in this process.</Empty>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th>workflow</th>
                  <th>description</th>
                </tr>
              </thead>
              <tbody>
                {workflows.data.workflows.map((wf) => (
                  <tr key={wf.name} data-workflow={wf.name}>
                    <td>
                      <Link href={`/workflows/${seg(wf.name)}`}>{wf.name}</Link>
                    </td>
                    <td class="muted">{wf.description ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <SendEventForm onSent={events.reload} />
      </div>
      <Section title="Recent events">
        <ErrorBox error={events.error} />
        {events.data === undefined ? (
          events.error === null && <Loading />
        ) : events.data.events.length === 0 ? (
          <Empty>No events yet.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>event</th>
                <th>payload</th>
                <th>emitted</th>
                <th class="num">deployments started</th>
                <th class="num">runs woken</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr key={e.id} data-event={e.name}>
                  <td>{e.name}</td>
                  <td>
                    <code class="clip">{JSON.stringify(e.payload ?? null)}</code>
                  </td>
                  <td>
                    <RelTime ms={e.emittedAtMs} now={now} />
                  </td>
                  <td class="num">{e.deploymentsStarted}</td>
                  <td class="num">{e.runsDelivered}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

export function WorkflowPage(props: { name: string }): JSX.Element {
  const now = useNow(1_000);
  const workflow = useResource((signal) => api<WorkflowDetail>(`/api/workflows/${seg(props.name)}`, { signal }), [props.name], {
    liveWhen: (e) => e.type === 'run.state' && eventField(e, 'name') === props.name,
  });
  const latestId = workflow.data?.runs[0]?.id ?? null;
  const latest = useResource((signal) => (latestId === null ? Promise.resolve(null) : api<RunDetail>(`/api/runs/${seg(latestId)}`, { signal })), [latestId], {
    liveWhen: (e) => latestId !== null && eventField(e, 'runId') === latestId,
  });
  if (workflow.data === undefined) return workflow.error !== null ? <ErrorBox error={workflow.error} title={`Workflow ${props.name}`} /> : <Loading what={`workflow ${props.name}`} />;
  return (
    <div>
      <PageHead
        title={props.name}
        subtitle={
          <>
            <Link href="/workflows">Workflows</Link> · durable workflow{workflow.data.description !== null ? ` · ${workflow.data.description}` : ''}
          </>
        }
      />
      <div class="grid-2 wide-left">
        <Section
          title="Latest run"
          actions={
            latest.data != null && (
              <span>
                <Link href={`/runs/${seg(latest.data.run.id)}`} class="mono">
                  {latest.data.run.id}
                </Link>{' '}
                <StateBadge state={latest.data.run.state} />
              </span>
            )
          }
        >
          {latestId === null ? <Empty>No runs yet.</Empty> : latest.data == null ? <Loading what="run" /> : <Timeline steps={latest.data.steps} events={latest.data.timeline} nowMs={now} />}
        </Section>
        <StartWorkflowForm name={props.name} />
      </div>
      <Section title="Runs">
        <RunsTable runs={workflow.data.runs} now={now} showKind={false} />
      </Section>
    </div>
  );
}

function StartWorkflowForm(props: { name: string }): JSX.Element {
  const [input, setInput] = useState('{}');
  const [formError, setFormError] = useState<string | null>(null);
  const action = useAction();
  return (
    <Section title="Start a run">
      <form
        class="form"
        name="start-workflow"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseJsonField(input, 'input');
          if (!parsed.ok) return setFormError(parsed.error);
          setFormError(null);
          action.run(async () => {
            const body = await api<unknown>(`/api/workflows/${seg(props.name)}/runs`, { method: 'POST', body: parsed.value === undefined ? {} : { input: parsed.value } });
            const id = runIdOf(body);
            if (id !== null) navigate(`/runs/${seg(id)}`);
          });
        }}
      >
        <label>
          Input (JSON)
          <textarea name="input" rows={4} spellcheck={false} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        </label>
        {formError !== null && <div class="action-error">{formError}</div>}
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Starting…' : 'Start workflow'}
          </button>
          <ActionResult error={action.error} message={action.message} />
        </div>
      </form>
    </Section>
  );
}

