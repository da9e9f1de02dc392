import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import type { DeadLetterInfo, QueueJob, QueueStats, WorkerInfo } from '../api/types';
import { TimeChart, type Series } from '../components/chart';
import { ActionButton, ActionResult, Empty, ErrorBox, Json, Link, Loading, PageHead, RelTime, Section, formatMs } from '../components/common';
import { useAction, useNow, useResource } from '../hooks';
import { listItems } from './shared';

/**
 * Queues: depth per queue (waiting, in flight, delayed, dead) charted over time from samples of
 * GET /api/queues taken while the page is open; dead letters with inspect, replay and purge;
 * the jobs waiting; workers and their leases.
 */

const SAMPLE_MS = 2_000;
const MAX_SAMPLES = 180;

interface Sample {
  atMs: number;
  stats: Map<string, QueueStats>;
}

/** Queue stats sampled every two seconds into a ring of the last six minutes. */
function useQueueSamples(): { latest: QueueStats[] | undefined; samples: Sample[]; error: unknown } {
  const samples = useRef<Sample[]>([]);
  const stats = useResource((signal) => api<unknown>('/api/queues', { signal }).then((b) => listItems<QueueStats>(b)), [], { pollMs: SAMPLE_MS });
  useEffect(() => {
    if (stats.data === undefined) return;
    samples.current = [...samples.current, { atMs: Date.now(), stats: new Map(stats.data.map((q) => [q.queue, q])) }].slice(-MAX_SAMPLES);
  }, [stats.data]);
  return { latest: stats.data, samples: samples.current, error: stats.error };
}

const COLORS = { waiting: '#3b82f6', active: '#22a55b', delayed: '#a855f7', dead: '#e5484d' } as const;

function seriesFor(samples: readonly Sample[], queue: string | null): { times: number[]; series: Series[] } {
  const times = samples.map((s) => s.atMs);
  const sum = (s: Sample, field: 'waiting' | 'active' | 'delayed' | 'dead'): number => {
    if (queue !== null) return s.stats.get(queue)?.[field] ?? 0;
    let total = 0;
    for (const q of s.stats.values()) total += q[field];
    return total;
  };
  const series: Series[] = [
    { label: 'waiting', color: COLORS.waiting, values: samples.map((s) => sum(s, 'waiting')) },
    { label: 'in flight', color: COLORS.active, values: samples.map((s) => sum(s, 'active')) },
    { label: 'delayed', color: COLORS.delayed, values: samples.map((s) => sum(s, 'delayed')) },
    { label: 'dead', color: COLORS.dead, values: samples.map((s) => sum(s, 'dead')) },
  ];
  return { times, series };
}

export function QueuesPage(): JSX.Element {
  const { latest, samples, error } = useQueueSamples();
  const chart = seriesFor(samples, null);
  return (
    <div>
      <PageHead title="Queues" subtitle="Durable jobs: depth, in flight, delayed and dead, sampled every 2 s while this page is open." />
      <Section title="All queues over time">
        <TimeChart times={chart.times} series={chart.series} title="queue depth, all queues" />
      </Section>
      <Section title="Queues">
        <ErrorBox error={error} />
        {latest === undefined ? error === null && <Loading /> : latest.length === 0 ? <Empty>No queues.</Empty> : <QueueTable queues={latest} />}
      </Section>
      <Workers />
    </div>
  );
}

function QueueTable(props: { queues: readonly QueueStats[] }): JSX.Element {
  return (
    <table class="table">
      <thead>
        <tr>
          <th>queue</th>
          <th>provider</th>
          <th class="num">waiting</th>
          <th class="num">in flight</th>
          <th class="num">delayed</th>
          <th class="num">dead</th>
          <th>oldest waiting</th>
        </tr>
      </thead>
      <tbody>
        {props.queues.map((q) => (
          <tr key={q.queue} data-queue={q.queue}>
            <td>
              <Link href={`/queues/${seg(q.queue)}`}>{q.queue}</Link>
            </td>
            <td>{q.provider ?? ''}</td>
            <td class="num">{q.waiting}</td>
            <td class="num">{q.active}</td>
            <td class="num">{q.delayed}</td>
            <td class={`num${q.dead > 0 ? ' bad' : ''}`} data-dead={q.dead}>
              {q.dead}
            </td>
            <td>{q.oldestWaitingAgeMs == null ? '—' : formatMs(q.oldestWaitingAgeMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function QueuePage(props: { queue: string }): JSX.Element {
  const { latest, samples, error } = useQueueSamples();
  const chart = seriesFor(samples, props.queue);
  const stats = latest?.find((q) => q.queue === props.queue);
  const base = `/api/queues/${seg(props.queue)}`;
  const dead = useResource((signal) => api<unknown>(`${base}/dead-letters`, { query: { limit: 100 }, signal }).then((b) => listItems<DeadLetterInfo>(b)), [props.queue], {
    liveWhen: (e) => e.type.includes('dead'),
    pollMs: 5_000,
  });
  const jobs = useResource((signal) => api<unknown>(`${base}/jobs`, { query: { limit: 50 }, signal }).then((b) => listItems<QueueJob>(b)), [props.queue], { pollMs: 5_000 });
  const purge = useAction();
  const replayAll = useAction();
  return (
    <div>
      <PageHead
        title={props.queue}
        subtitle={
          <>
            <Link href="/queues">Queues</Link>
            {stats !== undefined && ` · ${stats.waiting} waiting · ${stats.active} in flight · ${stats.delayed} delayed · ${stats.dead} dead`}
          </>
        }
      />
      <ErrorBox error={error} />
      <Section title="Over time">
        <TimeChart times={chart.times} series={chart.series} title={`queue ${props.queue}`} />
      </Section>
      <Section
        title={`Dead letters (${dead.data?.length ?? 0})`}
        actions={
          <div class="row">
            <ActionResult error={replayAll.error ?? purge.error} message={replayAll.message ?? purge.message} />
            <ActionButton
              label="Replay all"
              busy={replayAll.busy}
              disabled={(dead.data?.length ?? 0) === 0}
              onClick={() =>
                replayAll.run(async () => {
                  await api(`${base}/dead-letters/replay`, { method: 'POST', body: {} });
                  dead.reload();
                }, 'Replayed.')
              }
            />
            <ActionButton
              label="Purge"
              kind="danger"
              busy={purge.busy}
              disabled={(dead.data?.length ?? 0) === 0}
              onClick={() => {
                if (!confirm(`Delete every dead letter of ${props.queue}? This cannot be undone.`)) return;
                purge.run(async () => {
                  await api(`${base}/dead-letters`, { method: 'DELETE' });
                  dead.reload();
                }, 'Purged.');
              }}
            />
          </div>
        }
      >
        <ErrorBox error={dead.error} />
        {dead.data === undefined ? dead.error === null && <Loading /> : dead.data.length === 0 ? <Empty>No dead letters.</Empty> : <DeadLetters base={base} letters={dead.data} onChange={dead.reload} />}
      </Section>
      <Section title="Jobs">
        <ErrorBox error={jobs.error} />
        {jobs.data === undefined ? jobs.error === null && <Loading /> : jobs.data.length === 0 ? <Empty>No jobs waiting, delayed or in flight.</Empty> : <JobsTable jobs={jobs.data} />}
      </Section>
    </div>
  );
}

function DeadLetters(props: { base: string; letters: readonly DeadLetterInfo[]; onChange: () => void }): JSX.Element {
  const [open, setOpen] = useState<string | null>(null);
  const now = useNow(5_000);
  return (
    <table class="table">
      <thead>
        <tr>
          <th>job</th>
          <th>name</th>
          <th>error</th>
          <th>attempts</th>
          <th>dead since</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.letters.map((letter) => (
          <DeadLetterRow key={letter.job.id} base={props.base} letter={letter} now={now} open={open === letter.job.id} onToggle={() => setOpen(open === letter.job.id ? null : letter.job.id)} onChange={props.onChange} />
        ))}
      </tbody>
    </table>
  );
}

function DeadLetterRow(props: { base: string; letter: DeadLetterInfo; now: number; open: boolean; onToggle: () => void; onChange: () => void }): JSX.Element {
  const action = useAction();
  const { job } = props.letter;
  const detail = useResource(
    (signal) => (props.open ? api<DeadLetterInfo>(`${props.base}/dead-letters/${seg(job.id)}`, { signal }) : Promise.resolve(null)),
    [props.open, job.id],
  );
  return (
    <>
      <tr data-dead-letter={job.id}>
        <td class="mono small">{job.id}</td>
        <td>{job.name}</td>
        <td class="bad clip" title={props.letter.error}>
          {props.letter.error}
        </td>
        <td>{job.attempts ?? ''}</td>
        <td>
          <RelTime ms={props.letter.deadAtMs} now={props.now} />
        </td>
        <td>
          <div class="row nowrap">
            <ActionButton label={props.open ? 'Hide' : 'Inspect'} onClick={props.onToggle} />
            <ActionButton
              label="Replay"
              kind="primary"
              busy={action.busy}
              onClick={() =>
                action.run(async () => {
                  await api(`${props.base}/dead-letters/${seg(job.id)}/replay`, { method: 'POST', body: {} });
                  props.onChange();
                }, 'Replayed.')
              }
            />
            <ActionResult error={action.error} message={action.message} />
          </div>
        </td>
      </tr>
      {props.open && (
        <tr class="step-detail">
          <td colSpan={6}>
            <ErrorBox error={detail.error} />
            {detail.data == null ? <Loading /> : <Json value={detail.data} />}
          </td>
        </tr>
      )}
    </>
  );
}

function JobsTable(props: { jobs: readonly QueueJob[] }): JSX.Element {
  const now = useNow(5_000);
  return (
    <table class="table">
      <thead>
        <tr>
          <th>job</th>
          <th>name</th>
          <th>state</th>
          <th>attempts</th>
          <th>runs at</th>
          <th>payload</th>
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((job) => (
          <tr key={job.id}>
            <td class="mono small">{job.id}</td>
            <td>{job.name}</td>
            <td>{job.state ?? ''}</td>
            <td>{job.attempts ?? ''}</td>
            <td>
              <RelTime ms={job.runAtMs ?? null} now={now} />
            </td>
            <td>
              <code class="clip">{JSON.stringify(job.payload ?? null)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Workers(): JSX.Element {
  const now = useNow(5_000);
  const workers = useResource((signal) => api<unknown>('/api/workers', { signal }).then((b) => listItems<WorkerInfo>(b)), [], { pollMs: 5_000 });
  return (
    <Section title="Workers and leases">
      <ErrorBox error={workers.error} />
      {workers.data === undefined ? (
        workers.error === null && <Loading />
      ) : workers.data.length === 0 ? (
        <Empty>No workers.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>worker</th>
              <th>queues</th>
              <th>host</th>
              <th>last seen</th>
              <th class="num">active</th>
              <th>leases</th>
            </tr>
          </thead>
          <tbody>
            {workers.data.map((w) => (
              <tr key={w.id}>
                <td class="mono small">{w.id}</td>
                <td>{(w.queues ?? (w.queue === undefined ? [] : [w.queue])).join(', ')}</td>
                <td>{w.host ?? ''}</td>
                <td>
                  <RelTime ms={w.lastSeenMs ?? null} now={now} />
                </td>
                <td class="num">{w.active ?? w.leases?.length ?? 0}</td>
                <td class="small">
                  {(w.leases ?? []).map((l) => (
                    <div key={l.jobId}>
                      <span class="mono">{l.jobId}</span> until <RelTime ms={l.untilMs} now={now} />
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
