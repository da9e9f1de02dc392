import type { JSX } from 'preact';
import { api } from '../api/client';
import { isRunEvent } from '../api/live';
import type { LocalJob, QueueStats, RunSummary } from '../api/types';
import { Empty, ErrorBox, Link, Loading, PageHead, RelTime, Section, Stat, StateBadge } from '../components/common';
import { RunsTable } from '../components/runs-table';
import { useNow, useResource } from '../hooks';
import { listItems } from './shared';

/**
 * Overview: all four lanes at a glance — what ran, what failed, what is late, misfits, queue depth —
 * from GET /api/overview (the counters) and the lane lists (the rows behind them).
 */

const LANES = ['local', 'queue', 'flow', 'workflow'] as const;
const LANE_TITLE: Record<(typeof LANES)[number], string> = {
  local: 'Local jobs',
  queue: 'Queues',
  flow: 'Flows',
  workflow: 'Workflows',
};
const LANE_HREF: Record<(typeof LANES)[number], string> = { local: '/schedules', queue: '/queues', flow: '/flows', workflow: '/workflows' };
const BAD = /fail|dead|crash|missed|misfit|timedout|late|error/i;

function lanesOf(body: unknown): Record<string, Record<string, unknown>> {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const lanes = (typeof b.lanes === 'object' && b.lanes !== null ? b.lanes : b) as Record<string, unknown>;
  const out: Record<string, Record<string, unknown>> = {};
  for (const lane of LANES) {
    const value = lanes[lane];
    if (typeof value === 'object' && value !== null) out[lane] = value as Record<string, unknown>;
  }
  return out;
}

/** "failedLastHour" → "failed last hour". */
function labelOf(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
}

function LaneCard(props: { lane: (typeof LANES)[number]; counters: Record<string, unknown> | undefined }): JSX.Element {
  const numbers = Object.entries(props.counters ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
  return (
    <section class="card lane-card" data-lane={props.lane}>
      <header class="card-head">
        <h2>
          <Link href={LANE_HREF[props.lane]}>{LANE_TITLE[props.lane]}</Link>
        </h2>
        <span class={`lane-pill lane-${props.lane}`}>{props.lane}</span>
      </header>
      {numbers.length === 0 ? (
        <Empty>No figures.</Empty>
      ) : (
        <div class="stats">
          {numbers.map(([key, value]) => (
            <Stat key={key} label={labelOf(key)} value={value} tone={value > 0 && BAD.test(key) ? 'bad' : undefined} />
          ))}
        </div>
      )}
    </section>
  );
}

export function OverviewPage(): JSX.Element {
  const now = useNow(1_000);
  const overview = useResource((signal) => api<unknown>('/api/overview', { signal }), [], { liveWhen: isRunEvent, pollMs: 5_000 });
  const recent = useResource((signal) => api<unknown>('/api/runs', { query: { limit: 10 }, signal }).then((b) => listItems<RunSummary>(b)), [], { liveWhen: isRunEvent });
  const failed = useResource((signal) => api<unknown>('/api/runs', { query: { state: 'Failed', limit: 5 }, signal }).then((b) => listItems<RunSummary>(b)), [], { liveWhen: isRunEvent });
  const jobs = useResource((signal) => api<unknown>('/api/local/jobs', { signal }).then((b) => listItems<LocalJob>(b)), [], { pollMs: 5_000 });
  const queues = useResource((signal) => api<unknown>('/api/queues', { signal }).then((b) => listItems<QueueStats>(b)), [], { pollMs: 5_000 });
  const lanes = lanesOf(overview.data);
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
          <LaneCard key={lane} lane={lane} counters={lanes[lane]} />
        ))}
      </div>
      <div class="grid-2">
        <Section title="Needs attention">
          {jobs.data === undefined && jobs.error === null ? (
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
          <ErrorBox error={queues.error} />
          {queues.data === undefined ? (
            queues.error === null && <Loading />
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
                  <tr key={q.queue}>
                    <td>
                      <Link href={`/queues/${encodeURIComponent(q.queue)}`}>{q.queue}</Link>
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
        <ErrorBox error={recent.error} />
        {recent.data === undefined ? recent.error === null && <Loading /> : <RunsTable runs={recent.data} now={now} />}
      </Section>
    </div>
  );
}
