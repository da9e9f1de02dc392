import type { JSX } from 'preact';
import { api, seg } from '../api/client';
import { eventField, isRunEvent } from '../api/live';
import type { RunDetail, RunSummary, WorkflowInfo } from '../api/types';
import { Empty, ErrorBox, Link, Loading, PageHead, RelTime, Section, StateBadge } from '../components/common';
import { RunsTable } from '../components/runs-table';
import { useNow, useResource } from '../hooks';
import { listItems } from './shared';
import { SendEventForm, Timeline } from './workflow-parts';

/** Workflows: durable, event-driven processes; their runs, the latest run's timeline, and events. */

interface EventRecord {
  id?: number | string;
  name: string;
  payload?: unknown;
  atMs?: number;
  startedRuns?: string[];
}

export function WorkflowsPage(): JSX.Element {
  const now = useNow(5_000);
  const workflows = useResource((signal) => api<unknown>('/api/workflows', { signal }).then((b) => listItems<WorkflowInfo>(b)), [], { liveWhen: isRunEvent });
  const events = useResource((signal) => api<unknown>('/api/events', { query: { limit: 20 }, signal }).then((b) => listItems<EventRecord>(b)), [], {
    liveWhen: (e) => e.type.includes('event'),
  });
  return (
    <div>
      <PageHead title="Workflows" subtitle="Long-running, event-driven processes: durable steps, sleeps, events and signals." />
      <div class="grid-2 wide-left">
        <Section title="Workflows">
          <ErrorBox error={workflows.error} />
          {workflows.data === undefined ? (
            workflows.error === null && <Loading />
          ) : workflows.data.length === 0 ? (
            <Empty>No workflows are registered in this process.</Empty>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th>workflow</th>
                  <th>last run</th>
                  <th>state</th>
                </tr>
              </thead>
              <tbody>
                {workflows.data.map((wf) => (
                  <tr key={wf.name}>
                    <td>
                      <Link href={`/workflows/${seg(wf.name)}`}>{wf.name}</Link>
                      {wf.description != null && <div class="muted small">{wf.description}</div>}
                    </td>
                    <td>{wf.lastRun == null ? <span class="muted">never</span> : <RelTime ms={wf.lastRun.createdMs} now={now} />}</td>
                    <td>{wf.lastRun == null ? '' : <StateBadge state={wf.lastRun.state} />}</td>
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
        ) : events.data.length === 0 ? (
          <Empty>No events yet.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>event</th>
                <th>payload</th>
                <th>when</th>
                <th>started</th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((e, i) => (
                <tr key={e.id ?? i}>
                  <td>{e.name}</td>
                  <td>
                    <code class="clip">{JSON.stringify(e.payload ?? null)}</code>
                  </td>
                  <td>
                    <RelTime ms={e.atMs} now={now} />
                  </td>
                  <td>
                    {(e.startedRuns ?? []).map((id) => (
                      <Link key={id} href={`/runs/${seg(id)}`} class="mono">
                        {id.slice(0, 10)}{' '}
                      </Link>
                    ))}
                  </td>
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
  const runs = useResource(
    (signal) => api<unknown>(`/api/workflows/${seg(props.name)}/runs`, { query: { limit: 50 }, signal }).then((b) => listItems<RunSummary>(b)),
    [props.name],
    { liveWhen: (e) => isRunEvent(e) && (eventField(e, 'name') === props.name || eventField(e, 'name') === null) },
  );
  const latestId = runs.data?.[0]?.id ?? null;
  const latest = useResource((signal) => (latestId === null ? Promise.resolve(null) : api<RunDetail>(`/api/runs/${seg(latestId)}`, { signal })), [latestId], {
    liveWhen: (e) => latestId !== null && eventField(e, 'runId') === latestId,
  });
  return (
    <div>
      <PageHead
        title={props.name}
        subtitle={
          <>
            <Link href="/workflows">Workflows</Link> · durable workflow
          </>
        }
      />
      {latest.data != null && (
        <Section
          title="Latest run"
          actions={
            <span>
              <Link href={`/runs/${seg(latest.data.run.id)}`} class="mono">
                {latest.data.run.id}
              </Link>{' '}
              <StateBadge state={latest.data.run.state} />
            </span>
          }
        >
          <Timeline steps={latest.data.steps} events={latest.data.events} nowMs={now} />
        </Section>
      )}
      <Section title="Runs">
        <ErrorBox error={runs.error} />
        {runs.data === undefined ? runs.error === null && <Loading what="runs" /> : <RunsTable runs={runs.data} now={now} showKind={false} />}
      </Section>
    </div>
  );
}
