import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { createDeployments } from '../../../src/engine/deployments/deployments.js';
import { createEventBus } from '../../../src/engine/events/event-bus.js';
import { evaluateMetricSample, INITIAL_METRIC_STATE, metricTrigger } from '../../../src/engine/events/metric-trigger.js';
import { ConfigError } from '../../../src/errors.js';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';
import { createHarness, type Harness } from '../deployments/support/harness.js';
import { StoreLauncher } from '../deployments/support/store-launcher.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const retrain = { kind: 'workflow', name: 'retrain' } as const;

describe('event triggers', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('starts deployments whose subset matches, passes the payload when asked, delivers to waiting workflows', async () => {
    h = await createHarness(T0);
    const delivered: { name: string; payload: unknown }[] = [];
    const bus = createEventBus({ deployments: h.deployments, deliverEvent: (name, payload) => (delivered.push({ name, payload }), 2) });
    const demand = await h.deployments.deploy(retrain, {
      name: 'retrain-demand',
      on: { event: 'drift.detected', match: { model: 'demand', window: { days: 7 } }, payloadAs: 'drift' },
      parameters: { epochs: 3 },
      overlap: 'allow_all',
    });
    await h.deployments.deploy(retrain, { name: 'retrain-damage', on: { event: 'drift.detected', match: { model: 'damage' } } });
    await h.deployments.deploy(retrain, { name: 'retrain-any-high', on: { event: 'drift.detected', match: (p) => (p as { score: number }).score > 0.5 } });

    const low = await bus.emit('drift.detected', { model: 'demand', score: 0.4, window: { days: 7, extra: true } });
    assert.deepEqual(low.started.map((s) => s.deployment), ['retrain-demand']);
    assert.equal(low.started[0]?.outcome.state, 'Started');
    assert.equal(low.delivered, 2);
    const [run] = await h.launcher.runs(demand.id);
    assert.deepEqual(run?.params, { epochs: 3, drift: { model: 'demand', score: 0.4, window: { days: 7, extra: true } } });

    const high = await bus.emit('drift.detected', { model: 'other', score: 0.9 });
    assert.deepEqual(high.started.map((s) => s.deployment), ['retrain-any-high']);
    const none = await bus.emit('drift.detected', { model: 'demand', score: 0.4, window: { days: 30 } });
    assert.deepEqual(none.started, [], 'a nested subset mismatch does not match');
    assert.deepEqual(delivered.map((d) => d.name), ['drift.detected', 'drift.detected', 'drift.detected']);
  });

  it('records an event no one listens to, and skips paused deployments', async () => {
    h = await createHarness(T0);
    const bus = createEventBus({ deployments: h.deployments });
    await h.deployments.deploy(retrain, { name: 'paused', on: { event: 'model.published' }, paused: true });
    const result = await bus.emit('nobody.listens', { a: 1 });
    const paused = await bus.emit('model.published', {});
    assert.deepEqual(result.started, []);
    assert.deepEqual(paused.started, []);
    const events = await bus.listEvents();
    assert.deepEqual(
      events.map((e) => [e.name, e.payload, e.deploymentsStarted]),
      [['model.published', {}, 0], ['nobody.listens', { a: 1 }, 0]],
    );
    await assert.rejects(bus.emit('', {}), ConfigError);
  });
});

describe('metric-threshold triggers', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a noisy drift score wobbling around the threshold for 30 minutes starts one retraining, not fifty', async () => {
    const h = await createHarness(T0);
    try {
      const bus = createEventBus({ deployments: h.deployments });
      const d = await h.deployments.deploy(retrain, {
        name: 'retrain-on-drift',
        on: metricTrigger({ metric: 'drift_score', above: 0.3, forMs: 5 * 60_000, debounceMs: 2 * 60_000, throttleMs: 3_600_000 }),
        overlap: 'allow_all',
      });
      let starts = 0;
      // Every 10 s: mostly above 0.3, with one-sample dips below it every 50 s.
      for (let i = 0; i < 180; i += 1) {
        const value = i % 5 === 4 ? 0.25 : 0.3 + 0.05 * ((i * 7) % 3);
        const result = await bus.recordMetric('drift_score', value, { model: 'demand' });
        starts += result.started.length;
        h.clock.advance(10_000);
      }
      assert.equal(starts, 1);
      const runs = await h.launcher.runs(d.id);
      assert.equal(runs.length, 1);
      assert.ok((runs[0]?.scheduledMs ?? 0) >= T0 + 5 * 60_000, 'not before the condition held for forMs');
    } finally {
      await h.close();
    }
  });

  it('without debounce a dip ends the episode; a new episode fires again once throttleMs has passed', () => {
    const spec = metricTrigger({ metric: 'm', above: 1, forMs: 1_000, throttleMs: 10_000 });
    let state = INITIAL_METRIC_STATE;
    const fires: number[] = [];
    const feed = (value: number, atMs: number) => {
      const r = evaluateMetricSample(spec, state, value, atMs);
      state = r.state;
      if (r.fire) fires.push(atMs);
    };
    feed(2, 0);
    feed(2, 500);
    feed(2, 1_000); // held 1 s → fires
    feed(2, 2_000); // same episode: no
    feed(0, 3_000); // episode ends
    feed(2, 4_000);
    feed(2, 5_000); // held, but throttled (4 s after the last start)
    feed(2, 11_000); // throttle over → fires
    feed(2, 10_500); // out of order: ignored
    assert.deepEqual(fires, [1_000, 11_000]);
  });

  it('keeps its state in the store: a restart mid-episode still starts once, after forMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kairos-metric-'));
    dirs.push(dir);
    const path = join(dir, 'store.db');
    const clock = new FakeClock(T0);
    const open = async () => {
      const store = openSqliteStore({ path });
      const launcher = await StoreLauncher.create(store, () => clock.now());
      const deployments = createDeployments({ store, launcher, clock });
      return { store, launcher, deployments, bus: createEventBus({ deployments }) };
    };
    let p = await open();
    const d = await p.deployments.deploy(retrain, { name: 'm', on: metricTrigger({ metric: 'latency_p99', below: 0.5, forMs: 60_000 }) });
    await p.bus.recordMetric('latency_p99', 0.1);
    clock.advance(30_000);
    await p.bus.recordMetric('latency_p99', 0.1);
    p.deployments.close();
    await p.store.close();
    p = await open();
    clock.advance(30_000);
    const fired = await p.bus.recordMetric('latency_p99', 0.2);
    clock.advance(10_000);
    const again = await p.bus.recordMetric('latency_p99', 0.2);
    assert.equal(fired.started.length, 1, 'the episode began before the restart; 60 s later it fires');
    assert.equal(again.started.length, 0);
    assert.equal((await p.launcher.runs(d.id)).length, 1);
    p.deployments.close();
    await p.store.close();
  });

  it('rejects a trigger without a threshold, naming the field', () => {
    assert.throws(() => metricTrigger({ metric: 'x' }), (e: unknown) => e instanceof ConfigError && e.details.field === 'on.above');
  });
});
