import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Receiver } from '../alerts/support.js';
import { binarySkip, Daemon, freePort, pollFor, which } from './tools.js';

/**
 * The shipped Alertmanager example, end to end: Debian's alertmanager runs it with the webhook URLs
 * pointed at a local HTTP receiver (and group_wait shortened from 30s so the test is quick); alerts
 * posted to its API arrive at the receiver of their route.
 */
const skip = binarySkip(['prometheus-alertmanager', 'alertmanager'], 'alertmanager routing end to end');

interface WebhookBody {
  receiver: string;
  status: string;
  alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
}

describe('Alertmanager example routes Kairos alerts to the webhook receivers', { skip }, () => {
  const receiver = new Receiver();
  let alertmanager: Daemon;
  let amUrl = '';
  const dir = mkdtempSync(join(tmpdir(), 'kairos-am-'));

  before(async () => {
    await receiver.start();
    const example = readFileSync('deploy/alertmanager/alertmanager.yml', 'utf8');
    const urls = example.match(/url: http:\/\/127\.0\.0\.1:9095\/alertmanager/g) ?? [];
    assert.equal(urls.length, 2, 'the example has one webhook URL per receiver');
    const config = example
      .replace('url: http://127.0.0.1:9095/alertmanager', `url: ${receiver.url}/webhook`)
      .replace('url: http://127.0.0.1:9095/alertmanager', `url: ${receiver.url}/critical`)
      .replace('group_wait: 30s', 'group_wait: 1s');
    writeFileSync(join(dir, 'alertmanager.yml'), config);
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    const binary = which('prometheus-alertmanager') !== null ? 'prometheus-alertmanager' : 'alertmanager';
    alertmanager = new Daemon(binary, [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // A lone test instance: no gossip port, no peers.
      '--cluster.listen-address=',
      '--log.level=warn',
    ]);
    await pollFor(async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined), `alertmanager ready (${alertmanager.output})`);
  });

  after(async () => {
    await alertmanager?.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string> }>): Promise<void> {
    const response = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((a) => ({ ...a, startsAt: new Date().toISOString() }))),
    });
    assert.equal(response.status, 200, await response.text());
  }

  it('delivers a warning to the default webhook and a critical alert to the critical receiver', async () => {
    await post([
      {
        labels: { alertname: 'KairosDeadLettersGrowing', severity: 'warning', provider: 'redis', queue: 'emails' },
        annotations: { summary: 'Kairos queue redis/emails: jobs are being dead-lettered' },
      },
      { labels: { alertname: 'KairosNoLeader', severity: 'critical' }, annotations: { summary: 'No Kairos scheduler is leading' } },
    ]);
    await pollFor(() => (receiver.requests.length >= 2 ? true : undefined), `two webhook calls (${alertmanager.output})`);
    const byPath = new Map(receiver.requests.map((r) => [r.path, r.body as WebhookBody]));
    const warning = byPath.get('/webhook');
    const critical = byPath.get('/critical');
    assert.ok(warning !== undefined && critical !== undefined, [...byPath.keys()].join(', '));
    assert.equal(warning.receiver, 'kairos-webhook');
    assert.equal(warning.status, 'firing');
    assert.deepEqual(warning.alerts.map((a) => a.labels.alertname), ['KairosDeadLettersGrowing']);
    assert.equal(warning.alerts[0]!.annotations.summary, 'Kairos queue redis/emails: jobs are being dead-lettered');
    assert.equal(critical.receiver, 'kairos-critical');
    assert.deepEqual(critical.alerts.map((a) => a.labels.alertname), ['KairosNoLeader']);
  });

  it('inhibits KairosScheduleMissed while KairosNoLeader fires', async () => {
    const before = receiver.requests.length;
    await post([{ labels: { alertname: 'KairosScheduleMissed', severity: 'warning', lane: 'local' } }]);
    // A control alert posted alongside proves delivery is flowing while the inhibited one is held back.
    await post([{ labels: { alertname: 'KairosMisfits', severity: 'info', suggested_lane: 'queue' } }]);
    await pollFor(
      () => (receiver.requests.slice(before).some((r) => JSON.stringify(r.body).includes('KairosMisfits')) ? true : undefined),
      'the control alert',
    );
    const later = receiver.requests.slice(before).map((r) => JSON.stringify(r.body));
    assert.ok(!later.some((text) => text.includes('KairosScheduleMissed')), 'KairosScheduleMissed was not inhibited');
    const inhibited = await pollFor(async () => {
      const response = await fetch(`${amUrl}/api/v2/alerts?inhibited=true&active=false&silenced=false&unprocessed=false&filter=${encodeURIComponent('alertname="KairosScheduleMissed"')}`);
      const alerts = (await response.json()) as Array<{ status: { state: string; inhibitedBy: string[] } }>;
      return alerts.length > 0 ? alerts : undefined;
    }, 'the inhibited alert in the API');
    assert.equal(inhibited[0]!.status.state, 'suppressed');
    assert.ok(inhibited[0]!.status.inhibitedBy.length > 0);
  });
});
