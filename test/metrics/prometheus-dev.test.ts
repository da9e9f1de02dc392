import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binarySkip, Daemon, freePort, pollFor } from './tools.js';

/**
 * A real Prometheus (Debian's package) scrapes a real `kairos dev --fast` — every lane doing its demo
 * work, nothing synthetic — every second, with a viewer bearer token from a token file as in
 * production; then every query of the Grafana dashboard must return data, and the series the demo
 * drives must show real activity (not only initialised zeros).
 */
const VIEWER_TOKEN = 'prometheus-dev-scrape-3f9a2c71d0';
const skip = binarySkip(['prometheus'], 'prometheus scraping kairos dev');

interface QueryResult {
  status: string;
  error?: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe('Prometheus scraping `kairos dev --fast`: every dashboard query returns data', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kairos-prom-dev-'));
  let dev: Daemon;
  let prometheus: Daemon;
  let promUrl = '';
  let devUrl = '';

  before(async () => {
    writeFileSync(join(dir, 'tokens.txt'), `prometheus:viewer:${VIEWER_TOKEN}\n`);
    writeFileSync(join(dir, 'prom-token'), VIEWER_TOKEN);
    const devPort = await freePort();
    devUrl = `http://127.0.0.1:${devPort}`;
    dev = new Daemon(process.execPath, [
      '--import', 'tsx', 'test/support/cli.ts', 'dev', '--fast',
      '--port', String(devPort), '--db', join(dir, 'dev.db'), '--token-file', join(dir, 'tokens.txt'), '--status-every', '60',
    ]);
    await pollFor(async () => ((await fetch(`${devUrl}/healthz`)).ok ? true : undefined), `kairos dev listening (${dev.output})`, 600);

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [ "${resolve('deploy/prometheus/kairos-rules.yml')}" ]`,
        'scrape_configs:',
        '  - job_name: kairos',
        `    authorization: { type: Bearer, credentials_file: "${join(dir, 'prom-token')}" }`,
        `    static_configs: [ { targets: [ "127.0.0.1:${devPort}" ] } ]`,
        '',
      ].join('\n'),
    );
    prometheus = new Daemon('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    await pollFor(async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), `prometheus ready (${prometheus.output})`);
  });

  after(async () => {
    await prometheus?.stop();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<QueryResult> {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryResult;
  }

  /** Polls until `expr` has at least one finite sample (optionally passing `accept`). */
  function dataFor(what: string, expr: string, accept: (value: number) => boolean = Number.isFinite): Promise<QueryResult['data']['result']> {
    return pollFor(async () => {
      const answer = await query(expr);
      assert.equal(answer.status, 'success', `${what}: ${expr}: ${answer.error ?? ''}`);
      const rows = answer.data.result.filter((r) => accept(Number(r.value[1])));
      return rows.length > 0 ? rows : undefined;
    }, `${what}: ${expr}\n--- kairos dev output (tail) ---\n${dev.output.slice(-3_000)}`, 400);
  }

  it('scrapes kairos dev with the viewer token (up == 1 for several scrapes)', async () => {
    await dataFor('five successful scrapes', 'count_over_time(up{job="kairos"}[1m]) >= 5 and up{job="kairos"} == 1');
  });

  it('answers every dashboard panel query with finite data', async () => {
    const dashboard = JSON.parse(readFileSync('deploy/grafana/kairos-dashboard.json', 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ panel: panel.title, expr: t.expr })));
    assert.ok(targets.length >= 17, `the dashboard has ${targets.length} queries`);
    for (const { panel, expr } of targets) {
      // What Grafana substitutes: a rate window of several scrape intervals.
      await dataFor(`panel "${panel}"`, expr.replaceAll('$__rate_interval', '30s'));
    }
  });

  it('shows real activity from every lane of the demo, not only initialised zeros', async () => {
    const positive = (value: number): boolean => value > 0;
    for (const lane of ['local', 'queue', 'flow', 'workflow']) {
      await dataFor(`${lane} runs completed`, `kairos_runs_total{lane="${lane}",state="Completed"}`, positive);
      await dataFor(`${lane} run durations`, `kairos_run_duration_seconds_count{lane="${lane}"}`, positive);
    }
    await dataFor('local fire lateness observed', 'kairos_fire_lateness_seconds_count{lane="local"}', positive);
    await dataFor('flow fire lateness observed (cron deployment)', 'kairos_fire_lateness_seconds_count{lane="flow"}', positive);
    await dataFor('queue retries (the poison job)', 'kairos_retries_total{lane="queue"}', positive);
    await dataFor('dead letters (the poison job)', 'kairos_dead_letters_total{provider="sqlite",queue="default"}', positive);
    await dataFor('dead letters held', 'kairos_queue_depth{provider="sqlite",queue="default",state="dead"}', positive);
    await dataFor('the security-scan misfit', 'kairos_misfits_total', positive);
    await dataFor('one leader', 'sum(kairos_scheduler_leader) == 1');
  });

  it('loads the alert rules and evaluates them without errors; the demo dead letter fires its alert', async () => {
    await pollFor(async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ health: string }> }> } };
      const rules = body.data.groups.flatMap((g) => g.rules);
      return rules.length === 7 && rules.every((r) => r.health === 'ok') ? true : undefined;
    }, 'seven rules evaluated with health ok');
    const names = await pollFor(async () => {
      const answer = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: { alertname: string } }> } };
      const firing = new Set(answer.data.alerts.map((a) => a.labels.alertname));
      return firing.has('KairosDeadLettersGrowing') && firing.has('KairosMisfits') ? firing : undefined;
    }, 'KairosDeadLettersGrowing and KairosMisfits pending or firing');
    assert.ok(!names.has('KairosNoLeader'), 'kairos dev leads scheduling, so KairosNoLeader must not fire');
  });
});
