import type { JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import type { DeadLetterInfo, QueueJob, QueueStats, WorkersView } from '../api/types';
import { TimeChart, type Series } from '../components/chart';
import { ActionButton, ActionResult, Empty, ErrorBox, Json, Link, Loading, PageHead, RelTime, Section, formatMs } from '../components/common';
import { useAction, useNow, useResource } from '../hooks';

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
  const sampled = useRef<QueueStats[] | undefined>(undefined);
  const stats = useResource((signal) => api<{ queues: QueueStats[] }>('/api/queues', { signal }).then((b) => b.queues), [], { pollMs: SAMPLE_MS });
  // Appended while rendering (once per new answer), so the chart shows the sample that caused the render.
  if (stats.data !== undefined && stats.data !== sampled.current) {
    sampled.current = stats.data;
    samples.current = [...samples.current, { atMs: Date.now(), stats: new Map(stats.data.map((q) => [queueKey(q.provider, q.queue), q])) }].slice(-MAX_SAMPLES);
  }
  return { latest: stats.data, samples: samples.current, error: stats.error };
}

/** Two providers may each have a queue of the same name. */
const queueKey = (provider: string, queue: string): string => `${provider}\u0000${queue}`;
const queueHref = (q: { provider: string; queue: string }): string => `/queues/${seg(q.queue)}?provider=${encodeURIComponent(q.provider)}`;

const COLORS = { waiting: '#3b82f6', active: '#22a55b', delayed: '#a855f7', dead: '#e5484d' } as const;

function seriesFor(samples: readonly Sample[], key: string | null): { times: number[]; series: Series[] } {
  const times = samples.map((s) => s.atMs);
  const sum = (s: Sample, field: 'waiting' | 'active' | 'delayed' | 'dead'): number => {
    if (key !== null) return s.stats.get(key)?.[field] ?? 0;
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
          <tr key={queueKey(q.provider, q.queue)} data-queue={q.queue}>
            <td>
              <Link href={queueHref(q)}>{q.queue}</Link>
              {q.error !== null && <div class="small bad">{q.error}</div>}
            </td>
            <td>{q.provider}</td>
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

export function QueuePage(props: { queue: string; provider: string | null }): JSX.Element {
  const { latest, samples, error } = useQueueSamples();
  const stats = latest?.find((q) => q.queue === props.queue && (props.provider === null || q.provider === props.provider));
  const provider = props.provider ?? stats?.provider ?? null;
  const chart = seriesFor(samples, provider === null ? null : queueKey(provider, props.queue));
  const base = `/api/queues/${seg(props.queue)}`;
  const [jobState, setJobState] = useState<'waiting' | 'delayed' | 'active'>('waiting');
  const dead = useResource(
    (signal) => api<{ deadLetters: DeadLetterInfo[] }>(`${base}/dead-letters`, { query: { provider, limit: 100 }, signal }).then((b) => b.deadLetters),
    [props.queue, provider],
    { liveWhen: (e) => e.type === 'queue.job_dead', pollMs: 5_000 },
  );
  const jobs = useResource(
    (signal) => api<{ inspectable: boolean; jobs: QueueJob[] }>(`${base}/jobs`, { query: { provider, state: jobState, limit: 50 }, signal }),
    [props.queue, provider, jobState],
    { pollMs: 5_000 },
  );
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
                  const answer = await api<{ replayed: number }>(`${base}/dead-letters/replay`, { method: 'POST', query: { provider }, body: {} });
                  dead.reload();
                  return answer;
                }, 'Replayed all.')
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
                  await api(`${base}/dead-letters`, { method: 'DELETE', query: { provider }, body: {} });
                  dead.reload();
                }, 'Purged.');
              }}
            />
          </div>
        }
      >
        <ErrorBox error={dead.error} />
        {dead.data === undefined ? dead.error === null && <Loading /> : dead.data.length === 0 ? <Empty>No dead letters.</Empty> : <DeadLetters base={base} provider={provider} letters={dead.data} onChange={dead.reload} />}
      </Section>
      <Section
        title="Jobs"
        actions={
          <select name="job-state" value={jobState} aria-label="job state" onChange={(e) => setJobState(e.currentTarget.value as typeof jobState)}>
            <option value="waiting">waiting</option>
            <option value="delayed">delayed</option>
            <option value="active">in flight</option>
          </select>
        }
      >
        <ErrorBox error={jobs.error} />
        {jobs.data === undefined ? (
          jobs.error === null && <Loading />
        ) : !jobs.data.inspectable ? (
          <Empty>This provider is a broker: it does not list its jobs by state (depth above is from its stats).</Empty>
        ) : jobs.data.jobs.length === 0 ? (
          <Empty>No {jobState === 'active' ? 'in-flight' : jobState} jobs.</Empty>
        ) : (
          <JobsTable jobs={jobs.data.jobs} />
        )}
      </Section>
    </div>
  );
}

function DeadLetters(props: { base: string; provider: string | null; letters: readonly DeadLetterInfo[]; onChange: () => void }): JSX.Element {
  const [open, setOpen] = useState<string | null>(null);
  // Said here, not in the row: a replayed letter's row goes away with the refetch.
  const [notice, setNotice] = useState<string | null>(null);
  const now = useNow(5_000);
  return (
    <>
    {notice !== null && <div class="action-ok notice" role="status">{notice}</div>}
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
          <DeadLetterRow
            key={letter.job.id}
            base={props.base}
            provider={props.provider}
            letter={letter}
            now={now}
            open={open === letter.job.id}
            onToggle={() => setOpen(open === letter.job.id ? null : letter.job.id)}
            onReplayed={(count) => {
              setNotice(`Replayed ${letter.job.name} ${letter.job.id} (${count} job${count === 1 ? '' : 's'} back on the queue).`);
              props.onChange();
            }}
          />
        ))}
      </tbody>
    </table>
    </>
  );
}

function DeadLetterRow(props: { base: string; provider: string | null; letter: DeadLetterInfo; now: number; open: boolean; onToggle: () => void; onReplayed: (count: number) => void }): JSX.Element {
  const action = useAction();
  const { job } = props.letter;
  const detail = useResource(
    (signal) => (props.open ? api<DeadLetterInfo>(`${props.base}/dead-letters/${seg(job.id)}`, { query: { provider: props.provider }, signal }) : Promise.resolve(null)),
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
        <td>
          {job.attempt}/{job.maxAttempts}
        </td>
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
                  const answer = await api<{ replayed: number }>(`${props.base}/dead-letters/replay`, { method: 'POST', query: { provider: props.provider }, body: { ids: [job.id] } });
                  props.onReplayed(answer.replayed);
                })
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
          <th>priority</th>
          <th>attempt</th>
          <th>runs at</th>
          <th>payload</th>
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((job) => (
          <tr key={job.id}>
            <td class="mono small">{job.id}</td>
            <td>{job.name}</td>
            <td>{job.priority}</td>
            <td>
              {job.attempt}/{job.maxAttempts}
            </td>
            <td>
              <RelTime ms={job.runAtMs} now={now} />
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
  const workers = useResource((signal) => api<WorkersView>('/api/workers', { signal }), [], { pollMs: 5_000 });
  const data = workers.data;
  return (
    <Section title="Workers and leases">
      <ErrorBox error={workers.error} />
      {data === undefined ? (
        workers.error === null && <Loading />
      ) : data.queueWorkers.length + data.engineWorkers.length === 0 ? (
        <Empty>No workers.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>worker</th>
              <th>serves</th>
              <th class="num">concurrency</th>
              <th>holding</th>
            </tr>
          </thead>
          <tbody>
            {data.queueWorkers.map((w) => (
              <tr key={`q-${w.id}`}>
                <td>
                  <span class="mono small">{w.id}</span> {!w.running && <span class="tag">stopped</span>}
                </td>
                <td>
                  {w.provider}: {w.queues.join(', ')}
                  <div class="muted small">lease {formatMs(w.leaseMs)}</div>
                </td>
                <td class="num">
                  {w.inFlight.length}/{w.concurrency}
                </td>
                <td class="small">
                  {w.inFlight.length === 0 ? <span class="muted">idle</span> : w.inFlight.map((j) => (
                    <div key={j.jobId}>
                      {j.name} <span class="mono">{j.jobId}</span> · attempt {j.attempt} · lease ends <RelTime ms={j.leaseUntilMs} now={now} />
                    </div>
                  ))}
                </td>
              </tr>
            ))}
            {data.engineWorkers.map((w) => (
              <tr key={`e-${w.id}`}>
                <td>
                  <span class="mono small">{w.id}</span> {w.local && <span class="tag">this process</span>}
                </td>
                <td>flow and workflow runs</td>
                <td class="num">{w.runs.length}</td>
                <td class="small">
                  {w.runs.length === 0 ? <span class="muted">idle</span> : w.runs.map((r) => (
                    <div key={r.runId}>
                      <Link href={`/runs/${seg(r.runId)}`}>{r.name}</Link> · lease ends <RelTime ms={r.leaseUntilMs} now={now} />
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
