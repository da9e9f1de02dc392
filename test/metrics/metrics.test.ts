import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ConfigError, InvalidParametersError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics/metrics.js';

/** The value of one series in exposition text, e.g. `kairos_runs_total{lane="local",state="Failed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  it('counts runs by lane and state and observes durations in seconds', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    try {
      metrics.runFinished({ lane: 'local', state: 'Completed', durationMs: 3 });
      metrics.runFinished({ lane: 'local', state: 'Completed', durationMs: 7 });
      metrics.runFinished({ lane: 'flow', state: 'Failed', durationMs: 120_000 });
      metrics.runFinished({ lane: 'queue', state: 'Missed' });
      const text = await metrics.render();
      assert.equal(sample(text, 'kairos_runs_total{lane="local",state="Completed"}'), 2);
      assert.equal(sample(text, 'kairos_runs_total{lane="flow",state="Failed"}'), 1);
      assert.equal(sample(text, 'kairos_runs_total{lane="queue",state="Missed"}'), 1);
      assert.equal(sample(text, 'kairos_run_duration_seconds_sum{lane="local"}'), 0.01);
      assert.equal(sample(text, 'kairos_run_duration_seconds_count{lane="local"}'), 2);
      assert.equal(sample(text, 'kairos_run_duration_seconds_bucket{le="0.005",lane="local"}'), 1);
      assert.equal(sample(text, 'kairos_run_duration_seconds_bucket{le="180",lane="flow"}'), undefined);
      assert.equal(sample(text, 'kairos_run_duration_seconds_bucket{le="300",lane="flow"}'), 1);
      // A run that never started has no duration sample.
      assert.equal(sample(text, 'kairos_run_duration_seconds_count{lane="queue"}'), undefined);
    } finally {
      metrics.close();
    }
  });

  it('observes fire lateness with a 0.5 ms bucket and clamps early fires to 0', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    try {
      metrics.fireLate({ lane: 'local', lateMs: 0.3 });
      metrics.fireLate({ lane: 'local', lateMs: 0.8 });
      metrics.fireLate({ lane: 'local', lateMs: -5 });
      const text = await metrics.render();
      assert.equal(sample(text, 'kairos_fire_lateness_seconds_bucket{le="0.0005",lane="local"}'), 2);
      assert.equal(sample(text, 'kairos_fire_lateness_seconds_bucket{le="0.001",lane="local"}'), 3);
    } finally {
      metrics.close();
    }
  });

  it('counts misfires, misfits, retries, dead letters and reports leadership', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    try {
      metrics.misfire({ lane: 'local' });
      metrics.misfit({ suggestedLane: 'queue' });
      metrics.misfit({ suggestedLane: 'queue' });
      metrics.retry({ lane: 'workflow' });
      metrics.deadLetter({ provider: 'redis', queue: 'emails' });
      let text = await metrics.render();
      assert.equal(sample(text, 'kairos_scheduler_leader'), 0);
      metrics.setLeader(true);
      text = await metrics.render();
      assert.equal(sample(text, 'kairos_misfires_total{lane="local"}'), 1);
      assert.equal(sample(text, 'kairos_misfits_total{suggested_lane="queue"}'), 2);
      assert.equal(sample(text, 'kairos_retries_total{lane="workflow"}'), 1);
      assert.equal(sample(text, 'kairos_dead_letters_total{provider="redis",queue="emails"}'), 1);
      assert.equal(sample(text, 'kairos_scheduler_leader'), 1);
    } finally {
      metrics.close();
    }
  });

  it('reads queue depth from stats sources on every scrape, drops removed queues, survives a failing source', async () => {
    let emailsWaiting = 5;
    const metrics = createMetrics({ defaultMetrics: false, statsTimeoutMs: 200 });
    try {
      const remove = metrics.addQueueStatsSource({
        provider: 'redis',
        stats: () => [
          { queue: 'emails', waiting: emailsWaiting, active: 2, delayed: 1, dead: 4, oldestWaitingAgeMs: 1_500 },
        ],
      });
      metrics.addQueueStatsSource({ provider: 'nats', stats: () => Promise.reject(new Error('broker down')) });
      // Never answers: must be abandoned after statsTimeoutMs, not hang the scrape.
      metrics.addQueueStatsSource({ provider: 'kafka', stats: () => new Promise(() => undefined) });
      let text = await metrics.render();
      assert.equal(sample(text, 'kairos_queue_depth{provider="redis",queue="emails",state="waiting"}'), 5);
      assert.equal(sample(text, 'kairos_queue_depth{provider="redis",queue="emails",state="active"}'), 2);
      assert.equal(sample(text, 'kairos_queue_depth{provider="redis",queue="emails",state="delayed"}'), 1);
      assert.equal(sample(text, 'kairos_queue_depth{provider="redis",queue="emails",state="dead"}'), 4);
      assert.equal(sample(text, 'kairos_queue_oldest_waiting_age_seconds{provider="redis",queue="emails"}'), 1.5);
      assert.equal(sample(text, 'kairos_queue_stats_errors_total{provider="nats"}'), 1);
      assert.equal(sample(text, 'kairos_queue_stats_errors_total{provider="kafka"}'), 1);
      emailsWaiting = 9;
      text = await metrics.render();
      assert.equal(sample(text, 'kairos_queue_depth{provider="redis",queue="emails",state="waiting"}'), 9);
      remove();
      text = await metrics.render();
      assert.equal(sample(text, 'kairos_queue_depth{provider="redis",queue="emails",state="waiting"}'), undefined);
    } finally {
      metrics.close();
    }
  });

  it('starts the counters of known label sets at 0 and reads an empty queue as oldest age 0', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    try {
      metrics.addQueueStatsSource({
        provider: 'sqlite',
        stats: () => [
          { queue: 'empty', waiting: 0, active: 1, delayed: 0, dead: 0, oldestWaitingAgeMs: null },
          { queue: 'opaque', waiting: 3, active: 0, delayed: 0, dead: 0, oldestWaitingAgeMs: null },
        ],
      });
      const text = await metrics.render();
      for (const lane of ['local', 'queue', 'flow', 'workflow']) {
        assert.equal(sample(text, `kairos_misfires_total{lane="${lane}"}`), 0);
        assert.equal(sample(text, `kairos_retries_total{lane="${lane}"}`), 0);
      }
      for (const lane of ['queue', 'flow', 'workflow']) assert.equal(sample(text, `kairos_misfits_total{suggested_lane="${lane}"}`), 0);
      assert.equal(sample(text, 'kairos_queue_stats_errors_total{provider="sqlite"}'), 0);
      assert.equal(sample(text, 'kairos_queue_oldest_waiting_age_seconds{provider="sqlite",queue="empty"}'), 0);
      // Jobs waiting but no age known: no series rather than a made-up 0.
      assert.equal(sample(text, 'kairos_queue_oldest_waiting_age_seconds{provider="sqlite",queue="opaque"}'), undefined);
    } finally {
      metrics.close();
    }
  });

  it('exposes event-loop lag and the process defaults', async () => {
    const metrics = createMetrics();
    try {
      const text = await metrics.render();
      const lag = sample(text, 'kairos_event_loop_lag_seconds');
      assert.ok(lag !== undefined && lag >= 0, 'kairos_event_loop_lag_seconds present and non-negative');
      assert.match(text, /^process_cpu_seconds_total /m);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    } finally {
      metrics.close();
    }
  });

  it('rejects label values outside the closed sets with a typed error naming the field', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    try {
      assert.throws(
        () => metrics.runFinished({ lane: 'lcoal' as never, state: 'Completed' }),
        (error: unknown) => error instanceof InvalidParametersError && error.details.field === 'lane',
      );
      assert.throws(
        () => metrics.runFinished({ lane: 'local', state: 'Done' as never }),
        (error: unknown) => error instanceof InvalidParametersError && error.details.field === 'state',
      );
      assert.throws(() => metrics.fireLate({ lane: 'local', lateMs: Number.NaN }), InvalidParametersError);
      assert.throws(() => metrics.deadLetter({ provider: '', queue: 'x' }), InvalidParametersError);
    } finally {
      metrics.close();
    }
  });

  it('refuses a registry that already holds Kairos metrics, and leaves it as it was', () => {
    const registry = new Registry();
    const first = createMetrics({ registry, defaultMetrics: false });
    try {
      assert.throws(() => createMetrics({ registry, defaultMetrics: false }), ConfigError);
      assert.ok(registry.getSingleMetric('kairos_runs_total') !== undefined);
    } finally {
      first.close();
    }
    assert.equal(registry.getSingleMetric('kairos_runs_total'), undefined);
    assert.throws(() => createMetrics({ statsTimeoutMs: 0 }), ConfigError);
  });
});
