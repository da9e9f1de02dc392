import type { JSX } from 'preact';
import { ApiError, api } from '../api/client';
import type { LaneOverview, LocalJob, Overview, QueueStats, RunsPage } from '../api/types';
import { Empty, ErrorBox, Link, Loading, PageHead, RelTime, Section, Stat, StateBadge, cssName } from '../components/common';
import { RunsTable } from '../components/runs-table';
import { useNow, useResource } from '../hooks';

/**
 * Overview: all four lanes at a glance — what ran, what failed, what is late, misfits, queue depth —
 * from GET /api/overview (the counters) and the lane lists (the rows behind them).
 */

const LANES = ['local', 'queue', 'flow', 'workflow'] as const;
type LaneName = (typeof LANES)[number];
const LANE_TITLE: Record<LaneName, string> = { local: 'Local jobs', queue: 'Queues', flow: 'Flows', workflow: 'Workflows' };
const LANE_HREF: Record<LaneName, string> = { local: '/schedules', queue: '/queues', flow: '/flows', workflow: '/workflows' };
const GOOD_STATES = new Set(['Completed']);
const BAD_STATES = new Set(['Failed', 'TimedOut', 'Crashed', 'Missed']);

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function LaneCard(props: { lane: LaneName; info: LaneOverview | undefined }): JSX.Element {
  const info = props.info;
  return (
    <section class="card lane-card" data-lane={props.lane}>
      <header class="card-head">
        <h2>
          <Link href={LANE_HREF[props.lane]}>{LANE_TITLE[props.lane]}</Link>
        </h2>
        <span class={`lane-pill lane-${props.lane}`}>{info === undefined ? props.lane : info.running ? 'running' : 'not running'}</span>
      </header>
      {info === undefined ? (
        <Empty>—</Empty>
      ) : (
        <>
          <div class="stats">
            <Stat label="ran, last hour" value={sum(info.lastHour)} />
            <Stat label="ran, 24 h" value={sum(info.last24h)} />
            <Stat label="failed, 24 h" value={info.failures24h} tone={info.failures24h > 0 ? 'bad' : undefined} />
            <Stat label="late, 24 h" value={info.late24h} tone={info.late24h > 0 ? 'warn' : undefined} />
            <Stat label="missed, 24 h" value={info.missed24h} tone={info.missed24h > 0 ? 'bad' : undefined} />
            {props.lane === 'local' && <Stat label="misfits" value={info.misfits} tone={info.misfits > 0 ? 'warn' : undefined} />}
            {info.queueDepth !== null && (
              <>
                <Stat label="waiting" value={info.queueDepth.waiting} />
                <Stat label="in flight" value={info.queueDepth.active} />
                <Stat label="dead" value={info.queueDepth.dead} tone={info.queueDepth.dead > 0 ? 'bad' : undefined} />
              </>
            )}
          </div>
          <StateBar counts={info.lastHour} />
        </>
      )}
    </section>
  );
}

/** The last hour's runs by state as one stacked bar. */
function StateBar(props: { counts: Record<string, number> }): JSX.Element | null {
  const total = sum(props.counts);
  if (total === 0) return <div class="state-bar empty-bar" title="no runs in the last hour" />;
  const entries = Object.entries(props.counts).filter(([, n]) => n > 0);
  return (
    <div class="state-bar" title={entries.map(([s, n]) => `${s} ${n}`).join(' · ')}>
      {entries.map(([state, n]) => (
        <span key={state} class={`state-bar-part state-${cssName(state)}${GOOD_STATES.has(state) || BAD_STATES.has(state) ? '' : ' other'}`} style={{ flexGrow: n }} />
      ))}
    </div>
  );
}

/** A lane that is not running in this server answers 404; the overview says so once, on its card. */
const notRunning = (error: unknown): boolean => error instanceof ApiError && error.status === 404;

export function OverviewPage(): JSX.Element {
  const now = useNow(1_000);
  const overview = useResource((signal) => api<Overview>('/api/overview', { signal }), [], { liveWhen: (e) => e.type === 'run.state', pollMs: 5_000 });
  const recent = useResource((signal) => api<RunsPage>('/api/runs', { query: { limit: 10 }, signal }).then((b) => b.runs), [], { liveWhen: (e) => e.type === 'run.state' });
  const failed = useResource((signal) => api<RunsPage>('/api/runs', { query: { state: 'Failed', limit: 5 }, signal }).then((b) => b.runs), [], { liveWhen: (e) => e.type === 'run.state' });
  const jobs = useResource((signal) => api<{ jobs: LocalJob[] }>('/api/local/jobs', { signal }).then((b) => b.jobs), [], { pollMs: 5_000 });
  const queues = useResource((signal) => api<{ queues: QueueStats[] }>('/api/queues', { signal }).then((b) => b.queues), [], { pollMs: 5_000 });
  const lanes = new Map((overview.data?.lanes ?? []).map((l) => [l.lane, l]));
  // Late: a local job whose next fire is more than a second overdue and has not started.
  const late = (jobs.data ?? []).filter((j) => !j.paused && j.nextRunMs !== null && j.nextRunMs < now - 1_000 && j.running === 0);
  const misfits = (jobs.data ?? []).filter((j) => j.misfit);
  const failing = (jobs.data ?? []).filter((j) => j.lastError != null || j.state === 'Failed' || j.state === 'TimedOut');
  return (
    <div>
      <PageHead title="Overview" subtitle="Every lane at a glance. Live: updates as runs change." />
      <ErrorBox error={overview.error} title="Overview" />
      <div class="lanes">
        {LANES.map((lane) => (
          <LaneCard key={lane} lane={lane} info={lanes.get(lane)} />
        ))}
      </div>
      <div class="grid-2">
        <Section title="Needs attention">
          {jobs.data === undefined && jobs.error === null && failed.data === undefined ? (
            <Loading />
          ) : late.length + misfits.length + failing.length + (failed.data?.length ?? 0) === 0 ? (
            <Empty>Nothing failed, nothing late, no misfits.</Empty>
          ) : (
            <ul class="attention">
              {failed.data?.map((run) => (
                <li key={run.id}>
                  <StateBadge state={run.state} /> <Link href={`/runs/${encodeURIComponent(run.id)}`}>{run.name}</Link> <span class="muted">{run.kind} · </span>
                  <RelTime ms={run.endedMs ?? run.createdMs} now={now} />
                  {run.error != null && <div class="small bad">{run.error.message}</div>}
                </li>
              ))}
              {failing.map((job) => (
                <li key={`f-${job.id}`}>
                  <StateBadge state={job.state} /> <Link href="/schedules">{job.name}</Link> <span class="muted">local · </span>
                  {job.lastError?.message ?? ''}
                </li>
              ))}
              {late.map((job) => (
                <li key={`l-${job.id}`}>
                  <span class="badge state-Missed">Late</span> <Link href="/schedules">{job.name}</Link> <span class="muted">local · due </span>
                  <RelTime ms={job.nextRunMs} now={now} />
                </li>
              ))}
              {misfits.map((job) => (
                <li key={`m-${job.id}`}>
                  <span class="badge state-Retrying">Misfit</span> <Link href="/schedules">{job.name}</Link> <span class="muted">{job.misfitReason ?? ''}</span>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="Queue depth">
          {!notRunning(queues.error) && <ErrorBox error={queues.error} />}
          {queues.data === undefined ? (
            queues.error === null ? <Loading /> : notRunning(queues.error) && <Empty>The queue lane is not running in this server.</Empty>
          ) : queues.data.length === 0 ? (
            <Empty>No queues.</Empty>
          ) : (
            <table class="table compact">
              <thead>
                <tr>
                  <th>queue</th>
                  <th class="num">waiting</th>
                  <th class="num">in flight</th>
                  <th class="num">delayed</th>
                  <th class="num">dead</th>
                </tr>
              </thead>
              <tbody>
                {queues.data.map((q) => (
                  <tr key={`${q.provider}/${q.queue}`}>
                    <td>
                      <Link href={`/queues/${encodeURIComponent(q.queue)}?provider=${encodeURIComponent(q.provider)}`}>{q.queue}</Link>
                    </td>
                    <td class="num">{q.waiting}</td>
                    <td class="num">{q.active}</td>
                    <td class="num">{q.delayed}</td>
                    <td class={`num${q.dead > 0 ? ' bad' : ''}`}>{q.dead}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
      <Section title="Recent runs" actions={<Link href="/runs">all runs →</Link>}>
        {!notRunning(recent.error) && <ErrorBox error={recent.error} />}
        {recent.data === undefined ? recent.error === null && <Loading /> : <RunsTable runs={recent.data} now={now} />}
      </Section>
    </div>
  );
}
