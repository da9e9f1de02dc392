import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Receiver } from '../alerts/support.js';

/**
 * `kairos dev --slack-webhook <url> --webhook <url>` turns alerts on; the URLs (secrets: a Slack
 * webhook URL is a write credential) carry a canary that must appear nowhere — not in dev's stdout or
 * stderr, not in any /api response, /metrics, the OpenAPI document or the live stream — while the
 * alerts themselves do reach the receiver.
 */
const CANARY = 'CANARYd3v9f1';
const dir = mkdtempSync(join(tmpdir(), 'kairos-dev-secrets-'));

describe('kairos dev with alerts on: webhook URLs never leak', () => {
  const receiver = new Receiver();
  let child: ChildProcess;
  let output = '';
  let base = '';

  before(async () => {
    await receiver.start();
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/cli.ts', 'dev', '--fast', '--port', '0', '--db', join(dir, 'dev.db'), '--status-every', '1', '--webhook', `${receiver.url}/hook/${CANARY}`],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAIROS_SLACK_WEBHOOK_URL: `${receiver.url}/slack/T0/B0/${CANARY}` } },
    );
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let i = 0; i < 600 && base === ''; i += 1) {
      base = /API (http:\/\/127\.0\.0\.1:\d+)\/api/.exec(output)?.[1] ?? '';
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(base !== '', `kairos dev did not print its URL:\n${output}`);
  });
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says alerts are on, delivers them, and leaks the URLs nowhere', async () => {
    assert.match(output, /\[dev\] alerts on: Slack and 1 webhook\(s\)/);
    // The demo's poison job dead-letters and its security scan is a misfit: both alert, to both destinations.
    for (let i = 0; i < 400 && !(receiver.requests.some((r) => r.path.startsWith('/slack/')) && receiver.requests.some((r) => r.path.startsWith('/hook/'))); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(receiver.requests.some((r) => r.path === `/slack/T0/B0/${CANARY}`), 'Slack got an alert');
    assert.ok(receiver.requests.some((r) => r.path === `/hook/${CANARY}`), 'the webhook got an alert');

    const bodies: string[] = [];
    const { runs } = (await (await fetch(`${base}/api/runs?limit=5`)).json()) as { runs: Array<{ id: string }> };
    const paths = [
      '/api/overview', '/api/health', '/api/local/jobs', '/api/deployments', '/api/flows', '/api/workflows', '/api/queues',
      '/api/queues/default/dead-letters', '/api/workers', '/api/runs', '/api/events?limit=100', '/metrics', '/api/openapi.json',
      ...runs.map((r) => `/api/runs/${r.id}`),
    ];
    for (const path of paths) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200, path);
      bodies.push(await response.text(), JSON.stringify([...response.headers]));
    }
    // A second of the live stream.
    const abort = new AbortController();
    const stream = await fetch(`${base}/api/events/stream`, { signal: abort.signal });
    const reader = stream.body!.getReader();
    const stopAt = Date.now() + 1_000;
    try {
      while (Date.now() < stopAt) {
        const { value, done } = await reader.read();
        if (done) break;
        bodies.push(Buffer.from(value).toString('utf8'));
      }
    } finally {
      abort.abort();
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    assert.equal(code, 0);
    assert.ok(bodies.length > 20);
    for (const body of bodies) assert.ok(!body.includes(CANARY), `a response carries the canary: ${body.slice(0, 300)}`);
    assert.ok(!output.includes(CANARY), 'kairos dev printed a webhook URL');
  });
});
