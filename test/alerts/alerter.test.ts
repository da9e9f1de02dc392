import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createAlerter, type AlerterOptions } from '../../src/alerts/alerter.js';
import { ConfigError, InvalidParametersError, TimeoutError } from '../../src/errors.js';
import { captureLogger, ManualClock, Receiver } from './support.js';

const CANARY = 'CANARY-9f3b1c7e';

describe('createAlerter against a real HTTP receiver', () => {
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
  });
  after(async () => {
    await receiver.stop();
  });
  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.statuses.length = 0;
  });

  const base = (overrides: Partial<AlerterOptions> = {}): AlerterOptions => ({
    slack: { webhookUrl: `${receiver.url}/slack/T000/B000/${CANARY}` },
    webhooks: [{ url: `${receiver.url}/hook?token=${CANARY}`, headers: { authorization: `Bearer ${CANARY}-header` } }],
    baseUrl: 'https://kairos.example.com/',
    dedupWindowMs: 300_000,
    rateLimit: { max: 100, perMs: 60_000 },
    retry: { attempts: 3, baseDelayMs: 5, timeoutMs: 5_000 },
    ...overrides,
  });

  it('sends a Slack Block Kit message: header, what failed, error excerpt, attempt, link to the run', async () => {
    const alerter = createAlerter({ ...base(), webhooks: [] });
    try {
      const result = await alerter.notify({
        kind: 'run_failed',
        lane: 'flow',
        subject: 'nightly-etl <b>&</b>',
        runId: 'run/42',
        attempt: 3,
        error: new TimeoutError('step "load" ran past its timeoutMs of 30000'),
      });
      assert.equal(result.outcome, 'sent');
      assert.equal(receiver.requests.length, 1);
      const request = receiver.requests[0]!;
      assert.equal(request.path, `/slack/T000/B000/${CANARY}`);
      assert.equal(request.headers['content-type'], 'application/json');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Block Kit JSON read loosely
      const body = request.body as { text: string; blocks: any[] };
      const [header, section, error, actions] = body.blocks;
      assert.equal(header.type, 'header');
      assert.equal(header.text.type, 'plain_text');
      assert.match(header.text.text, /Run failed: nightly-etl/);
      assert.ok(header.text.text.length <= 150);
      const fields = section.fields.map((f: { text: string }) => f.text);
      // mrkdwn control characters are escaped, so a name cannot forge links or mentions.
      assert.ok(fields.includes('*What failed*\nnightly-etl &lt;b&gt;&amp;&lt;/b&gt; (flow lane)'), fields.join(' | '));
      assert.ok(fields.includes('*Attempt*\n3'));
      assert.ok(fields.includes('*Run*\nrun/42'));
      assert.ok(fields.includes('*Error class*\nKAIROS_TIMEOUT'));
      assert.match(error.text.text, /^\*Error\*\n```step "load" ran past its timeoutMs of 30000```$/);
      assert.equal(actions.type, 'actions');
      assert.equal(actions.elements[0].url, 'https://kairos.example.com/runs/run%2F42');
      assert.match(body.text, /Run failed: nightly-etl/);
    } finally {
      await alerter.close();
    }
  });

  it('sends the generic webhook JSON with its headers', async () => {
    const alerter = createAlerter({ ...base(), slack: undefined });
    try {
      await alerter.notify({
        kind: 'threshold_trigger',
        lane: 'workflow',
        subject: 'drift-monitor',
        details: { metric: 'drift_score', value: 0.31, threshold: 0.25 },
      });
      const request = receiver.requests[0]!;
      assert.equal(request.path, `/hook?token=${CANARY}`);
      assert.equal(request.headers.authorization, `Bearer ${CANARY}-header`);
      const body = request.body as Record<string, unknown>;
      assert.equal(body.source, 'kairos');
      assert.equal(body.version, 1);
      assert.equal(body.kind, 'threshold_trigger');
      assert.equal(body.lane, 'workflow');
      assert.equal(body.subject, 'drift-monitor');
      assert.equal(body.runId, null);
      assert.equal(body.runUrl, null);
      assert.equal(body.error, null);
      assert.deepEqual(body.details, { metric: 'drift_score', value: 0.31, threshold: 0.25 });
      assert.equal(typeof body.occurredAt, 'string');
      assert.equal(body.repeats, null);
    } finally {
      await alerter.close();
    }
  });

  it('turns an outage of 1000 identical failures into one message and one "and 999 more" summary', async () => {
    const clock = new ManualClock();
    const alerter = createAlerter({ ...base({ clock }), slack: undefined });
    try {
      const alert = { kind: 'run_failed', lane: 'queue', subject: 'send-email', error: new Error('SMTP 421') } as const;
      const outcomes = [];
      for (let i = 0; i < 1000; i += 1) outcomes.push((await alerter.notify({ ...alert, attempt: i + 1 })).outcome);
      assert.equal(outcomes.filter((o) => o === 'sent').length, 1);
      assert.equal(outcomes.filter((o) => o === 'deduplicated').length, 999);
      assert.equal(receiver.requests.length, 1);

      clock.advance(300_000);
      await alerter.flush();
      assert.equal(receiver.requests.length, 2);
      const summary = receiver.requests[1]!.body as Record<string, unknown>;
      assert.deepEqual(summary.repeats, { count: 999, windowMs: 300_000 });
      assert.match(String(summary.summary), /and 999 more like this in the last 5m/);
      assert.equal(summary.attempt, 1000, 'the summary describes the latest occurrence');

      // A quiet window closes without a message; the next occurrence is news again.
      clock.advance(300_000);
      await alerter.flush();
      assert.equal(receiver.requests.length, 2);
      assert.equal((await alerter.notify(alert)).outcome, 'sent');
      assert.equal(receiver.requests.length, 3);
      assert.deepEqual(alerter.stats(), { sent: 3, deduplicated: 999, rateLimited: 0, rejected: 0, failedDeliveries: 0 });
    } finally {
      await alerter.close();
    }
  });

  it('keeps different subjects and error classes apart', async () => {
    const clock = new ManualClock();
    const alerter = createAlerter({ ...base({ clock }), slack: undefined });
    try {
      const results = [
        await alerter.notify({ kind: 'run_failed', lane: 'queue', subject: 'a', error: new TypeError('x') }),
        await alerter.notify({ kind: 'run_failed', lane: 'queue', subject: 'a', error: new RangeError('x') }),
        await alerter.notify({ kind: 'run_failed', lane: 'queue', subject: 'b', error: new TypeError('x') }),
        await alerter.notify({ kind: 'dead_letter', lane: 'queue', subject: 'a', error: new TypeError('x') }),
        await alerter.notify({ kind: 'run_failed', lane: 'queue', subject: 'a', error: new TypeError('other message, same class') }),
      ];
      assert.deepEqual(
        results.map((r) => r.outcome),
        ['sent', 'sent', 'sent', 'sent', 'deduplicated'],
      );
    } finally {
      await alerter.close();
    }
  });

  it('rate-limits across fingerprints and reports the drops in the next message', async () => {
    const clock = new ManualClock();
    const alerter = createAlerter({ ...base({ clock, rateLimit: { max: 3, perMs: 60_000 } }), slack: undefined });
    try {
      const outcomes = [];
      for (let i = 0; i < 10; i += 1) {
        outcomes.push((await alerter.notify({ kind: 'missed_schedule', lane: 'local', subject: `job-${i}` })).outcome);
      }
      assert.deepEqual(outcomes.slice(0, 3), ['sent', 'sent', 'sent']);
      assert.ok(outcomes.slice(3).every((o) => o === 'rate_limited'));
      assert.equal(receiver.requests.length, 3);
      clock.advance(60_000);
      assert.equal((await alerter.notify({ kind: 'misfit', lane: 'local', subject: 'slow-job' })).outcome, 'sent');
      const body = receiver.requests[3]!.body as Record<string, unknown>;
      assert.equal(body.droppedByRateLimit, 7);
      assert.match(String(body.summary), /7 other alerts dropped by the rate limit/);
      assert.equal(alerter.stats().rateLimited, 7);
    } finally {
      await alerter.close();
    }
  });

  it('retries 5xx with backoff until delivered, and does not retry a 4xx', async () => {
    const alerter = createAlerter({ ...base(), slack: undefined });
    try {
      receiver.statuses.push(503, 502);
      const first = await alerter.notify({ kind: 'run_failed', lane: 'flow', subject: 'retry-me' });
      assert.equal(first.outcome, 'sent');
      assert.deepEqual(
        first.outcome === 'sent' ? first.deliveries.map((d) => [d.ok, d.attempts, d.status]) : null,
        [[true, 3, 200]],
      );
      assert.equal(receiver.requests.length, 3);

      receiver.statuses.push(400);
      const second = await alerter.notify({ kind: 'run_failed', lane: 'flow', subject: 'bad-request' });
      assert.deepEqual(
        second.outcome === 'sent' ? second.deliveries.map((d) => [d.ok, d.attempts, d.status]) : null,
        [[false, 1, 400]],
      );
      assert.equal(alerter.stats().failedDeliveries, 1);
    } finally {
      await alerter.close();
    }
  });

  it('gives up on an unreachable receiver without throwing, and logs no URL, header or secret', async () => {
    const { logger, lines } = captureLogger();
    const dead = new Receiver();
    await dead.start();
    const deadUrl = dead.url;
    await dead.stop();
    const alerter = createAlerter({
      ...base({ logger }),
      slack: { webhookUrl: `${deadUrl}/services/T0/B0/${CANARY}` },
      webhooks: [{ url: `${receiver.url}/hook/${CANARY}`, headers: { 'x-api-key': `${CANARY}-key` } }],
      secrets: ['s3cr3t-broker-pass'],
    });
    try {
      receiver.statuses.push(500, 500, 500);
      const result = await alerter.notify({
        kind: 'dead_letter',
        lane: 'queue',
        subject: 'rotate-secrets',
        error: new Error(`connect to amqp://kairos:s3cr3t-broker-pass@mq:5672 failed; posted to ${receiver.url}/hook/${CANARY}`),
      });
      assert.equal(result.outcome, 'sent');
      if (result.outcome === 'sent') {
        assert.deepEqual(
          result.deliveries.map((d) => [d.destination, d.ok, d.attempts]),
          [
            ['slack', false, 3],
            ['webhook[0]', false, 3],
          ],
        );
        assert.match(result.deliveries[0]!.error ?? '', /network error ECONNREFUSED/);
      }
      assert.equal(lines.filter((l) => l.includes('alert delivery failed')).length, 2);
      const everything = [...lines, ...receiver.requests.map((r) => JSON.stringify(r.body))].join('\n');
      assert.ok(!everything.includes(CANARY), 'the canary leaked into logs or alert bodies');
      assert.ok(!everything.includes('s3cr3t-broker-pass'), 'the broker password leaked');
      const body = receiver.requests[0]!.body as { error: { message: string } };
      assert.match(body.error.message, /amqp:\/\/kairos:\[redacted\]@mq:5672/);
    } finally {
      await alerter.close();
    }
  });

  it('rejects a malformed alert without throwing, naming the field', async () => {
    const alerter = createAlerter(base());
    try {
      const result = await alerter.notify({ kind: 'exploded', lane: 'local', subject: 'x' } as never);
      assert.equal(result.outcome, 'rejected');
      assert.ok(result.outcome === 'rejected' && result.error instanceof InvalidParametersError);
      assert.equal(result.outcome === 'rejected' ? result.error.details.field : null, 'kind');
      const noSubject = await alerter.notify({ kind: 'run_failed', lane: 'local', subject: '' });
      assert.equal(noSubject.outcome, 'rejected');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const badDetails = await alerter.notify({ kind: 'run_failed', lane: 'local', subject: 'x', details: cyclic });
      assert.equal(badDetails.outcome, 'rejected');
      assert.equal(receiver.requests.length, 0);
      assert.equal(alerter.stats().rejected, 3);
    } finally {
      await alerter.close();
    }
  });

  it('close() sends the summaries of open windows and stops its timers', async () => {
    const clock = new ManualClock();
    const alerter = createAlerter({ ...base({ clock }), slack: undefined });
    await alerter.notify({ kind: 'run_failed', lane: 'local', subject: 'flaky' });
    await alerter.notify({ kind: 'run_failed', lane: 'local', subject: 'flaky' });
    await alerter.notify({ kind: 'run_failed', lane: 'local', subject: 'flaky' });
    await alerter.close();
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual((receiver.requests[1]!.body as Record<string, unknown>).repeats, { count: 2, windowMs: 300_000 });
    assert.equal(clock.pending(), 0);
    assert.equal((await alerter.notify({ kind: 'run_failed', lane: 'local', subject: 'late' })).outcome, 'closed');
  });

  it('refuses bad options with ConfigError naming the field and never echoing the URL', () => {
    const secretUrl = `ftp://hooks.example.com/${CANARY}`;
    for (const [options, field] of [
      [{ ...base(), slack: { webhookUrl: secretUrl } }, 'slack.webhookUrl'],
      [{ ...base(), webhooks: [{ url: `not a url ${CANARY}` }] }, 'webhooks[0].url'],
      [{ ...base(), baseUrl: 'kairos' }, 'baseUrl'],
      [{ ...base(), dedupWindowMs: 0 }, 'dedupWindowMs'],
      [{ ...base(), rateLimit: { max: -1, perMs: 1000 } }, 'rateLimit.max'],
    ] as const) {
      assert.throws(
        () => createAlerter(options),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.details.field === field &&
          !error.message.includes(CANARY) &&
          !JSON.stringify(error.toJSON()).includes(CANARY),
      );
    }
  });
});
