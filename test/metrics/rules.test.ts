import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { binarySkip, run } from './tools.js';

const RULES = 'deploy/prometheus/kairos-rules.yml';
const RULE_TESTS = 'deploy/prometheus/kairos-rules.test.yml';
const ALERTMANAGER = 'deploy/alertmanager/alertmanager.yml';
const DASHBOARD = 'deploy/grafana/kairos-dashboard.json';

describe('promtool and amtool on the shipped files', { skip: binarySkip(['promtool'], 'promtool rules') }, () => {
  it('promtool check rules accepts the rules file', () => {
    const result = run('promtool', ['check', 'rules', RULES]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: 7 rules found/);
  });

  it('promtool test rules passes the unit tests', () => {
    const result = run('promtool', ['test', 'rules', RULE_TESTS]);
    assert.equal(result.status, 0, result.output);
  });

  it('every alert of the rules file has a unit test', () => {
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    assert.deepEqual(alerts.sort(), [
      'KairosDeadLettersGrowing',
      'KairosEventLoopLagHigh',
      'KairosMisfits',
      'KairosNoLeader',
      'KairosQueueBacklog',
      'KairosRunFailuresHigh',
      'KairosScheduleMissed',
    ]);
    for (const alert of alerts) assert.ok(tested.has(alert), `${alert} has no promtool unit test`);
  });

  it('amtool accepts the Alertmanager example', { skip: binarySkip(['amtool'], 'amtool check-config') }, () => {
    const result = run('amtool', ['check-config', ALERTMANAGER]);
    assert.equal(result.status, 0, result.output);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);

  it('has a panel for every Kairos metric family', () => {
    for (const family of [
      'kairos_runs_total',
      'kairos_run_duration_seconds_bucket',
      'kairos_fire_lateness_seconds_bucket',
      'kairos_misfires_total',
      'kairos_misfits_total',
      'kairos_queue_depth{state="waiting"}',
      'kairos_queue_depth{state="active"}',
      'kairos_queue_depth{state="dead"}',
      'kairos_dead_letters_total',
      'kairos_retries_total',
      'kairos_scheduler_leader',
      'kairos_event_loop_lag_seconds',
    ]) {
      assert.ok(exprs.some((e) => e.includes(family)), `no panel queries ${family}`);
    }
  });

  it('uses the importable datasource input on every query', () => {
    assert.equal(dashboard.uid, 'kairos-overview');
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no query`);
      for (const target of panel.targets ?? []) assert.equal(target.datasource.uid, '${DS_PROMETHEUS}');
    }
  });
});
