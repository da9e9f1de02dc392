import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKairos, type Kairos } from '../../src/app/kairos.js';
import { metricTrigger } from '../../src/engine/events/metric-trigger.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { workflow } from '../../src/engine/workflow/define.js';
import { Receiver, type ReceivedRequest } from '../alerts/support.js';

/**
 * Alerts wired end to end: a real createKairos app posts to a local HTTP receiver standing in for a
 * Slack incoming webhook and for a generic webhook. Each condition — a failing flow run, a dead
 * letter, a missed local schedule, a misfit, a metric-threshold start — yields exactly one message per
 * destination (Block Kit for Slack, with a link to the run); a burst of 1,000 identical failures yields
 * one message and one summary.
 */

const failingEtl = flow('failing-etl', {
  tasks: {
    extract: task({
      run: () => {
        throw new Error('warehouse unreachable');
      },
    }),
  },
});
const retrain = workflow('retrain', async (ctx) => ctx.step('train', () => ({ trained: true })));

interface SlackBody {
  text: string;
  blocks: Array<{ type: string; text?: { text: string }; elements?: Array<{ type: string; url?: string; text?: unknown }>; fields?: unknown[] }>;
}
interface WebhookBody {
  source: string;
  kind: string;
  lane: string;
  subject: string;
  runId: string | null;
  runUrl: string | null;
  repeats: { count: number } | null;
  summary: string | null;
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

const slackOf = (requests: ReceivedRequest[]) => requests.filter((r) => r.path.startsWith('/slack/')).map((r) => r.body as SlackBody);
const hooksOf = (requests: ReceivedRequest[]) => requests.filter((r) => r.path === '/hook').map((r) => r.body as WebhookBody);

describe('alerts from every lane through createKairos to Slack and a webhook', () => {
  const receiver = new Receiver();
  let app: Kairos;

  before(async () => {
    await receiver.start();
    app = await createKairos({
      store: ':memory:',
      definitions: [failingEtl, retrain],
      handlers: {
        'export.manifest': () => {
          throw new TypeError('malformed export manifest');
        },
      },
      queue: { pollWaitMs: 50 },
      engine: { pollIntervalMs: 50 },
      scheduler: { pollMs: 100 },
      // A long window: every condition below must yield exactly one message, however often it recurs.
      alerts: { slack: { webhookUrl: `${receiver.url}/slack/T0/B0/secret` }, webhooks: [{ url: `${receiver.url}/hook`, name: 'ops' }], dedupWindowMs: 600_000 },
      http: { auth: { allowAnonymousLoopback: true }, port: 0 },
    });
    await app.deployments.deploy(retrain, { name: 'retrain-on-drift', on: metricTrigger({ metric: 'drift_score', above: 0.3 }) });
    await app.start();
  });
  after(async () => {
    await app?.stop({ deadlineMs: 2_000 });
    await receiver.stop();
  });

  /** Waits for this kind's message at both destinations, then checks no second one follows. */
  async function oneMessageOfKind(kind: string): Promise<{ slack: SlackBody; hook: WebhookBody }> {
    await until(() => hooksOf(receiver.requests).some((h) => h.kind === kind) && slackOf(receiver.requests).length === hooksOf(receiver.requests).length, `a ${kind} alert at both destinations`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const hooks = hooksOf(receiver.requests);
    const index = hooks.findIndex((h) => h.kind === kind);
    assert.equal(hooks.filter((h) => h.kind === kind).length, 1, `exactly one ${kind} webhook message`);
    const slack = slackOf(receiver.requests)[index]!;
    assert.equal(slackOf(receiver.requests).length, hooks.length, 'Slack got every message the webhook got');
    return { slack, hook: hooks[index]! };
  }

  it('a failing flow run: one message, Block Kit with an "Open run" link to the run', async () => {
    const { runId } = await app.engine.run('failing-etl', {});
    const run = await app.engine.waitForRun(runId, { timeoutMs: 10_000 });
    assert.equal(run.state, 'Failed');
    const { slack, hook } = await oneMessageOfKind('run_failed');
    assert.equal(hook.source, 'kairos');
    assert.equal(hook.subject, 'failing-etl');
    assert.equal(hook.runId, runId);
    assert.equal(hook.runUrl, `${app.url!}/runs/${runId}`, 'the link points at this app (its own URL, known once it listens)');
    assert.equal(slack.blocks[0]!.type, 'header');
    assert.match(slack.blocks[0]!.text!.text, /Run failed: failing-etl/);
    assert.ok(slack.blocks.some((b) => b.type === 'section' && b.text?.text.includes('warehouse unreachable')), 'the error excerpt');
    const button = slack.blocks.find((b) => b.type === 'actions')?.elements?.[0];
    assert.equal(button?.type, 'button');
    assert.equal(button?.url, `${app.url!}/runs/${runId}`);
  });

  it('a dead letter: one message', async () => {
    await app.queue.enqueueWorkflow('export.manifest', { context: { file: 'x.json' }, maxAttempts: 1 });
    const { hook, slack } = await oneMessageOfKind('dead_letter');
    assert.equal(hook.lane, 'queue');
    assert.equal(hook.subject, 'export.manifest');
    assert.match(slack.text, /malformed export manifest/);
  });

  it('a missed local schedule: one message', async () => {
    app.local.every('20ms', () => 'tick', { id: 'tight-heartbeat', misfireGraceTimeMs: 1, coalesce: false });
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Block the event loop well past several fires: they are missed beyond their 1 ms grace.
    const until300 = Date.now() + 300;
    while (Date.now() < until300) {
      // busy: what a CPU-bound job in the process does to its neighbours
    }
    const { hook } = await oneMessageOfKind('missed_schedule');
    assert.equal(hook.lane, 'local');
    assert.equal(hook.subject, 'tight-heartbeat');
    app.local.pauseJob('tight-heartbeat');
  });

  it('a misfit: one message', async () => {
    app.local.every('1h', () => new Promise((resolve) => setTimeout(resolve, 80)), { id: 'slow-report', budgetMs: 20 });
    await app.local.runJobNow('slow-report');
    const { hook, slack } = await oneMessageOfKind('misfit');
    assert.equal(hook.subject, 'slow-report');
    assert.match(JSON.stringify(slack.blocks), /suggestedLane/);
  });

  it('a metric-threshold start: one message with the started run', async () => {
    await app.recordMetric('drift_score', 0.45, { model: 'demand' });
    const { hook } = await oneMessageOfKind('threshold_trigger');
    assert.equal(hook.subject, 'retrain-on-drift');
    assert.ok(hook.runId !== null && hook.runUrl === `${app.url!}/runs/${hook.runId}`, 'links the run it started');
  });
});

describe('a burst of 1,000 identical failures', () => {
  const receiver = new Receiver();
  let app: Kairos;

  before(async () => {
    await receiver.start();
    app = await createKairos({
      store: ':memory:',
      alerts: { slack: { webhookUrl: `${receiver.url}/slack/T0/B0/burst` }, webhooks: [{ url: `${receiver.url}/hook` }], dedupWindowMs: 1_500, baseUrl: 'https://kairos.example.com' },
    });
    app.local.every('1h', () => {
      throw new Error('disk full');
    }, { id: 'nightly-export' });
    await app.start();
  });
  after(async () => {
    await app?.stop({ deadlineMs: 2_000 });
    await receiver.stop();
  });

  it('sends one message, then one summary of the 999 repeats — not 1,000 messages', async () => {
    for (let i = 0; i < 1_000; i += 1) await app.local.runJobNow('nightly-export');
    await until(() => hooksOf(receiver.requests).length >= 2, 'the first message and the summary');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const hooks = hooksOf(receiver.requests);
    assert.equal(hooks.length, 2, `webhook messages: ${hooks.map((h) => h.summary ?? h.kind).join(' | ')}`);
    assert.equal(slackOf(receiver.requests).length, 2);
    assert.equal(hooks[0]!.repeats, null);
    assert.equal(hooks[1]!.repeats?.count, 999);
    assert.match(hooks[1]!.summary ?? '', /999 more like this/);
    assert.match(JSON.stringify(slackOf(receiver.requests)[1]!.blocks), /999 more like this/);
  });
});
