import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMetrics, type KairosMetrics } from '../../src/metrics/metrics.js';
import { metricsRoutes } from '../../src/server/routes/metrics.js';
import { createServer, type KairosServer } from '../../src/server/server.js';
import { binarySkip, Daemon, freePort, pollFor } from './tools.js';

/**
 * A real Prometheus (Debian's package) scrapes a real Kairos /metrics — with a bearer token, as in
 * production — while sample activity is recorded; then every query of the Grafana dashboard must
 * return data, and the alert rules must load.
 */
const TOKEN = 'prometheus-scrape-token-5e8a1c';
const skip = binarySkip(['prometheus'], 'prometheus scrape + dashboard queries');

interface QueryResult {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe('Prometheus scraping Kairos; every dashboard query returns data', { skip }, () => {
  let metrics: KairosMetrics;
  let server: KairosServer;
  let prometheus: Daemon;
  let promUrl = '';
  let activity: ReturnType<typeof setInterval>;
  const dir = mkdtempSync(join(tmpdir(), 'kairos-prom-'));

  before(async () => {
    metrics = createMetrics();
    metrics.setLeader(true);
    metrics.addQueueStatsSource({
      provider: 'redis',
      stats: () => [
        { queue: 'emails', waiting: 12, active: 3, delayed: 2, dead: 1, oldestWaitingAgeMs: 4_000 },
        { queue: 'reports', waiting: 0, active: 1, delayed: 0, dead: 0, oldestWaitingAgeMs: null },
      ],
    });
    metrics.addQueueStatsSource({ provider: 'nats', stats: () => Promise.reject(new Error('unreachable')) });
    let tick = 0;
    const record = () => {
      tick += 1;
      for (const lane of ['local', 'queue', 'flow', 'workflow'] as const) {
        metrics.runFinished({ lane, state: 'Completed', durationMs: 5 + (tick % 50) });
        if (tick % 3 === 0) metrics.runFinished({ lane, state: 'Failed', durationMs: 200 });
        metrics.fireLate({ lane, lateMs: 0.2 + (tick % 7) });
        metrics.retry({ lane });
        metrics.misfire({ lane });
      }
      metrics.misfit({ suggestedLane: 'queue' });
      metrics.deadLetter({ provider: 'redis', queue: 'emails' });
    };
    record();
    activity = setInterval(record, 100);

    server = createServer({ auth: { tokens: [{ token: TOKEN, role: 'viewer' }] }, port: 0, routes: [metricsRoutes({ metrics })] });
    const target = new URL(await server.listen()).host;
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [ "${resolve('deploy/prometheus/kairos-rules.yml')}" ]`,
        'scrape_configs:',
        '  - job_name: kairos',
        '    authorization: { type: Bearer, credentials: "' + TOKEN + '" }',
        `    static_configs: [ { targets: [ "${target}" ] } ]`,
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
    clearInterval(activity);
    await prometheus?.stop();
    await server?.close();
    metrics?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<QueryResult> {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryResult;
  }

  it('scrapes /metrics with the bearer token (up == 1 for several scrapes)', async () => {
    await pollFor(async () => {
      const result = await query('count_over_time(up{job="kairos"}[1m]) >= 5 and up{job="kairos"} == 1');
      return result.data.result.length > 0 ? true : undefined;
    }, 'five successful scrapes');
  });

  it('answers every dashboard panel query with finite data', async () => {
    const dashboard = JSON.parse(readFileSync('deploy/grafana/kairos-dashboard.json', 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ panel: panel.title, expr: t.expr })));
    assert.ok(targets.length >= 17);
    for (const { panel, expr } of targets) {
      // What Grafana substitutes: a rate window of several scrape intervals.
      const concrete = expr.replaceAll('$__rate_interval', '30s');
      const result = await pollFor(async () => {
        const answer = await query(concrete);
        assert.equal(answer.status, 'success', `${panel}: ${concrete}`);
        const finite = answer.data.result.filter((r) => Number.isFinite(Number(r.value[1])));
        return finite.length > 0 ? finite : undefined;
      }, `data for panel "${panel}": ${concrete}`, 100);
      assert.ok(result.length > 0);
    }
  });

  it('loads the alert rules and evaluates them without errors', async () => {
    const response = await fetch(`${promUrl}/api/v1/rules`);
    const body = (await response.json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const rules = body.data.groups.flatMap((g) => g.rules);
    assert.equal(rules.length, 7);
    await pollFor(async () => {
      const again = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as typeof body;
      const all = again.data.groups.flatMap((g) => g.rules);
      return all.every((r) => r.health === 'ok') ? true : undefined;
    }, 'every rule evaluated with health ok');
    // Sample data has dead letters and misfires every scrape: those alerts must be active.
    const alerts = await pollFor(async () => {
      const answer = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: { alertname: string } }> } };
      const names = new Set(answer.data.alerts.map((a) => a.labels.alertname));
      return names.has('KairosDeadLettersGrowing') && names.has('KairosScheduleMissed') ? names : undefined;
    }, 'KairosDeadLettersGrowing and KairosScheduleMissed to fire');
    assert.ok(!alerts.has('KairosNoLeader'), 'a leader is reported, so KairosNoLeader must not fire');
  });
});
