import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import { eventField } from '../api/live';
import type { DeploymentInfo, LocalJob } from '../api/types';
import { ActionButton, ActionResult, Empty, ErrorBox, Json, Link, Loading, PageHead, RelTime, Section, StateBadge, formatTime } from '../components/common';
import { useAction, useNow, useResource } from '../hooks';

/**
 * Schedules: the local lane's in-process jobs and the deployments (flows and workflows on a
 * schedule or trigger), with their next fire, last result, pause/resume, trigger now and backfill.
 */

export function SchedulesPage(): JSX.Element {
  const now = useNow(1_000);
  const jobs = useResource((signal) => api<{ jobs: LocalJob[] }>('/api/local/jobs', { signal }).then((b) => b.jobs), [], {
    liveWhen: (e) => e.type.startsWith('local.'),
    pollMs: 5_000,
  });
  const deployments = useResource((signal) => api<{ deployments: DeploymentInfo[] }>('/api/deployments', { signal }).then((b) => b.deployments), [], {
    liveWhen: (e) => e.type.startsWith('deployment.') || (e.type === 'run.state' && eventField(e, 'deploymentId') !== null),
    pollMs: 10_000,
  });
  return (
    <div>
      <PageHead title="Schedules" subtitle="In-process jobs of the local lane, and deployments that start flows and workflows." />
      <Section title="Local jobs">
        <ErrorBox error={jobs.error} />
        {jobs.data === undefined ? jobs.error === null && <Loading /> : jobs.data.length === 0 ? <Empty>No local jobs.</Empty> : <LocalJobsTable jobs={jobs.data} now={now} onChange={jobs.reload} />}
      </Section>
      <Section title="Deployments">
        <ErrorBox error={deployments.error} />
        {deployments.data === undefined ? (
          deployments.error === null && <Loading />
        ) : deployments.data.length === 0 ? (
          <Empty>No deployments.</Empty>
        ) : (
          <DeploymentsTable deployments={deployments.data} now={now} onChange={deployments.reload} />
        )}
      </Section>
    </div>
  );
}

function LocalJobsTable(props: { jobs: readonly LocalJob[]; now: number; onChange: () => void }): JSX.Element {
  return (
    <table class="table">
      <thead>
        <tr>
          <th>job</th>
          <th>trigger</th>
          <th>next fire</th>
          <th>last run</th>
          <th>state</th>
          <th>runs</th>
          <th>missed</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((job) => (
          <tr key={job.id} data-job={job.id} data-paused={String(job.paused)}>
            <td>
              <strong>{job.name}</strong>
              {job.name !== job.id && <div class="muted small mono">{job.id}</div>}
              {job.misfit && <div class="misfit" title={job.misfitReason ?? ''}>misfit: {job.misfitReason ?? 'over its budget'}</div>}
            </td>
            <td class="mono small">{job.trigger}</td>
            <td>{job.paused ? <span class="tag">paused</span> : <RelTime ms={job.nextRunMs} now={props.now} />}</td>
            <td>
              <RelTime ms={job.lastRunMs} now={props.now} />
              {job.lastError != null ? (
                <div class="small bad" title={job.lastError.message}>
                  {job.lastError.message}
                </div>
              ) : (
                job.lastResult !== undefined && job.lastResult !== null && <div class="small muted clip">{JSON.stringify(job.lastResult)}</div>
              )}
            </td>
            <td>
              <StateBadge state={job.state} />
              {job.running > 0 && <span class="tag">{job.running} running</span>}
            </td>
            <td class="num" data-runs={job.runCount}>
              {job.runCount}
            </td>
            <td class="num">{job.missedCount}</td>
            <td>
              <JobActions job={job} onChange={props.onChange} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function JobActions(props: { job: LocalJob; onChange: () => void }): JSX.Element {
  const action = useAction();
  const post = (what: 'pause' | 'resume' | 'run', done: string): void =>
    action.run(async () => {
      await api(`/api/local/jobs/${seg(props.job.id)}/${what}`, { method: 'POST', body: {} });
      props.onChange();
    }, done);
  return (
    <div class="row nowrap">
      {props.job.paused ? (
        <ActionButton label="Resume" busy={action.busy} onClick={() => post('resume', 'Resumed.')} />
      ) : (
        <ActionButton label="Pause" busy={action.busy} onClick={() => post('pause', 'Paused.')} />
      )}
      <ActionButton label="Run now" busy={action.busy} onClick={() => post('run', 'Ran.')} />
      <ActionResult error={action.error} message={null} />
    </div>
  );
}

function triggerText(d: DeploymentInfo): string {
  const parts: string[] = [];
  if (d.schedule !== null) parts.push(d.schedule);
  if (d.eventTrigger !== null) parts.push(`on event ${d.eventTrigger.event}`);
  if (d.metricTrigger !== null) {
    const m = d.metricTrigger;
    parts.push(`when ${m.metric}${m.above !== null ? ` > ${m.above}` : ''}${m.below !== null ? ` < ${m.below}` : ''}`);
  }
  return parts.length === 0 ? 'manual only' : parts.join(' · ');
}

function DeploymentsTable(props: { deployments: readonly DeploymentInfo[]; now: number; onChange: () => void }): JSX.Element {
  const [backfillFor, setBackfillFor] = useState<string | null>(null);
  return (
    <>
      <table class="table">
        <thead>
          <tr>
            <th>deployment</th>
            <th>runs</th>
            <th>trigger</th>
            <th>next fires</th>
            <th>last fire</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.deployments.map((d) => {
            const target = d.target;
            return (
              <tr key={d.name} data-deployment={d.name} data-paused={String(d.paused)}>
                <td>
                  <strong>{d.name}</strong>
                  {d.description !== null && <div class="muted small">{d.description}</div>}
                </td>
                <td>
                  <Link href={`/${target.kind === 'workflow' ? 'workflows' : 'flows'}/${seg(target.name)}`}>{`${target.kind} ${target.name}`}</Link>
                </td>
                <td class="mono small">
                  {triggerText(d)}
                  <div class="muted">overlap {d.overlap}</div>
                </td>
                <td>
                  {d.paused ? (
                    <span class="tag">paused</span>
                  ) : d.nextFireTimesMs.length === 0 ? (
                    <span class="muted">—</span>
                  ) : (
                    <>
                      <RelTime ms={d.nextFireTimesMs[0]} now={props.now} />
                      <div class="muted small">{d.nextFireTimesMs.slice(1, 3).map((ms) => formatTime(ms)).join(', ')}</div>
                    </>
                  )}
                </td>
                <td>{d.lastFireMs > 0 ? <RelTime ms={d.lastFireMs} now={props.now} /> : <span class="muted">never</span>}</td>
                <td>
                  <DeploymentActions deployment={d} onChange={props.onChange} onBackfill={() => setBackfillFor(backfillFor === d.name ? null : d.name)} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {backfillFor !== null && <BackfillForm name={backfillFor} onDone={props.onChange} />}
    </>
  );
}

function DeploymentActions(props: { deployment: DeploymentInfo; onChange: () => void; onBackfill: () => void }): JSX.Element {
  const action = useAction();
  const post = (what: 'pause' | 'resume' | 'trigger', done: string): void =>
    action.run(async () => {
      const answer = await api<{ runId?: string | null; state?: string; reason?: string | null }>(`/api/deployments/${seg(props.deployment.name)}/${what}`, { method: 'POST', body: {} });
      props.onChange();
      // A manual fire may be skipped or buffered by the overlap policy: say so rather than "Triggered".
      if (what === 'trigger' && answer.state !== undefined && answer.state !== 'Started') throw new Error(`Fire ${answer.state}${answer.reason != null ? `: ${answer.reason}` : ''}`);
    }, done);
  return (
    <div class="row nowrap">
      {props.deployment.paused ? (
        <ActionButton label="Resume" busy={action.busy} onClick={() => post('resume', 'Resumed.')} />
      ) : (
        <ActionButton label="Pause" busy={action.busy} onClick={() => post('pause', 'Paused.')} />
      )}
      <ActionButton label="Trigger now" busy={action.busy} onClick={() => post('trigger', 'Triggered.')} />
      <ActionButton label="Backfill…" onClick={props.onBackfill} />
      <ActionResult error={action.error} message={action.message} />
    </div>
  );
}

/** Local datetime-input value for an instant. */
function toInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function BackfillForm(props: { name: string; onDone: () => void }): JSX.Element {
  const [from, setFrom] = useState(toInput(Date.now() - 86_400_000));
  const [to, setTo] = useState(toInput(Date.now()));
  const [result, setResult] = useState<unknown>(null);
  const action = useAction();
  return (
    <Section title={`Backfill ${props.name}`}>
      <form
        class="form inline"
        name="backfill"
        onSubmit={(e) => {
          e.preventDefault();
          const fromMs = new Date(from).getTime();
          const toMs = new Date(to).getTime();
          action.run(async () => {
            setResult(await api(`/api/deployments/${seg(props.name)}/backfill`, { method: 'POST', body: { from: fromMs, to: toMs } }));
            props.onDone();
          }, 'Backfill queued.');
        }}
      >
        <label>
          From (local time)
          <input type="datetime-local" name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Backfilling…' : 'Backfill'}
        </button>
        <ActionResult error={action.error} message={action.message} />
      </form>
      <p class="muted small">Every scheduled fire between the two instants ({formatTime(new Date(from).getTime())} → {formatTime(new Date(to).getTime())}) that has not run yet gets a run.</p>
      {result !== null && <Json value={result} />}
    </Section>
  );
}
