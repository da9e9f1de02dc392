import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { apiGet, chromiumSkip, ensureUiBuilt, eventually, launchBrowser, openPage, screenshot, startDev, type DevServer } from './support.js';

/**
 * The web UI in a real browser against a real `kairos dev --fast`: every page renders without a
 * console error, and the four things a person does most — watch a flow run on its graph, pause a
 * schedule, replay a dead letter, send an event that starts a workflow — work end to end.
 */

interface FlowsAnswer { flows: Array<{ name: string; graph: { nodes: Array<{ id: string }> } }> }
interface JobsAnswer { jobs: Array<{ id: string; name: string; trigger: string; runCount: number; paused: boolean }> }
interface QueuesAnswer { queues: Array<{ queue: string; provider: string; dead: number }> }
interface DeploymentsAnswer { deployments: Array<{ name: string; target: { kind: string; name: string }; schedule: string | null; eventTrigger: { event: string; match: Record<string, unknown> | null } | null }> }
interface RunsAnswer { runs: Array<{ id: string; kind: string; name: string; state: string }> }

const COMPLETED_RGB = 'rgb(34, 165, 91)';

// Browser-side code is passed as text: this test is compiled without the DOM typings.

// (The page's CSP forbids eval, so these run through page.evaluate, polled from here, not waitForFunction.)

/** True when the graph has `count` nodes, all Completed or Skipped, at least one Completed. */
const allNodesDone = (count: number): string => `(() => {
  const nodes = [...document.querySelectorAll('.dag-node')];
  return nodes.length === ${count} && nodes.every((n) => n.dataset.state === 'Completed' || n.dataset.state === 'Skipped') && nodes.some((n) => n.dataset.state === 'Completed');
})()`;

/** The run count shown in a job row. */
const runsShownIn = (row: string): string => `Number(document.querySelector(${JSON.stringify(`${row} td[data-runs]`)})?.getAttribute('data-runs'))`;

/** Polls a browser-side expression until it is true. */
async function until(page: Page, what: string, expression: string, timeoutMs = 30_000): Promise<void> {
  await eventually(what, async () => ((await page.evaluate<boolean>(expression)) ? true : undefined), timeoutMs);
}
const skip = chromiumSkip('browser: web UI');

describe('web UI in Chromium against kairos dev --fast', { skip }, () => {
  let dev: DevServer;
  let browser: { context: BrowserContext; close: () => Promise<void> };

  before(async () => {
    ensureUiBuilt();
    dev = await startDev();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await dev?.stop();
  });

  async function visit(path: string, ready: (page: Page) => Promise<unknown>): Promise<{ page: Page; problems: string[] }> {
    const opened = await openPage(browser.context);
    await opened.page.goto(`${dev.url}${path}`);
    await ready(opened.page);
    return opened;
  }

  it('opens every page without console errors', async () => {
    const flows = await apiGet<FlowsAnswer>(dev.url, '/api/flows');
    const flow = flows.flows[0];
    assert.ok(flow !== undefined, 'kairos dev registers at least one flow');
    const queues = await apiGet<QueuesAnswer>(dev.url, '/api/queues');
    const queue = queues.queues[0];
    assert.ok(queue !== undefined, 'kairos dev serves at least one queue');
    const workflows = await apiGet<{ workflows: Array<{ name: string }> }>(dev.url, '/api/workflows');
    const workflow = workflows.workflows[0];
    assert.ok(workflow !== undefined, 'kairos dev registers at least one workflow');
    const run = await eventually('a first run', async () => (await apiGet<RunsAnswer>(dev.url, '/api/runs?limit=1')).runs[0]);

    const pages: Array<[name: string, path: string, ready: string]> = [
      ['overview', '/', '.lane-card[data-lane="queue"] .stat'],
      ['schedules', '/schedules', 'tr[data-job]'],
      ['flows', '/flows', 'tr[data-flow]'],
      ['flow', `/flows/${encodeURIComponent(flow.name)}`, '.dag-node'],
      ['runs', '/runs', 'tr[data-run]'],
      ['run', `/runs/${encodeURIComponent(run.id)}`, '.facts'],
      ['workflows', '/workflows', 'tr[data-workflow]'],
      ['workflow', `/workflows/${encodeURIComponent(workflow.name)}`, 'h1'],
      ['queues', '/queues', 'tr[data-queue]'],
      ['queue', `/queues/${encodeURIComponent(queue.queue)}?provider=${encodeURIComponent(queue.provider)}`, '.chart canvas'],
      ['explain', '/explain', 'form[name="explain"]'],
      ['not-found', '/no/such/page', 'h1'],
    ];
    for (const [name, path, selector] of pages) {
      const { page, problems } = await visit(path, (p) => p.waitForSelector(selector, { timeout: 20_000 }));
      // Let the live stream connect and a refetch or two happen before judging the console.
      await page.waitForSelector('.live[data-live="live"]', { timeout: 10_000 });
      await page.waitForTimeout(500);
      assert.equal(await page.locator('.error-box').count(), 0, `${name}: an error box is shown: ${(await page.locator('.error-box').allInnerTexts()).join(' | ')}`);
      await screenshot(page, `page-${name}`);
      await page.close();
      assert.deepEqual(problems, [], `${name} (${path}) logged problems`);
    }
  });

  it('explains a task profile with the decision matrix', async () => {
    const { page, problems } = await visit('/explain', (p) => p.waitForSelector('form[name="explain"]'));
    await page.fill('input[name="frequency"]', '30s');
    await page.selectOption('select[name="visibility"]', 'user');
    await page.click('form[name="explain"] button[type="submit"]');
    await page.waitForSelector('.explain-result[data-lane="flow"]');
    assert.ok((await page.locator('.reasons li').count()) > 0, 'reasons are listed');
    await screenshot(page, 'explain-result');
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('shows flow runs on the graph live, and runs a flow to Completed from the form, without a reload', async () => {
    const flows = await apiGet<FlowsAnswer>(dev.url, '/api/flows');
    const deployments = await apiGet<DeploymentsAnswer>(dev.url, '/api/deployments');
    // A flow that a schedule keeps starting (nightly-etl every 3 s under --fast), for the hands-off part.
    const scheduled = deployments.deployments.find((d) => d.target.kind === 'flow' && d.schedule !== null && d.schedule.includes('*/'));
    const flow = flows.flows.find((f) => f.name === scheduled?.target.name) ?? flows.flows[0];
    assert.ok(flow !== undefined);
    const taskCount = flow.graph.nodes.length;
    const { page, problems } = await visit(`/flows/${encodeURIComponent(flow.name)}`, (p) => p.waitForSelector('.dag-node'));
    await page.waitForSelector('.live[data-live="live"]');
    // A marker a reload would wipe.
    await page.evaluate('window.__kairosMarker = 42');
    const shownRun = (): Promise<string | null> => page.evaluate<string | null>(`document.querySelector('.graph-run')?.dataset.run ?? null`);

    // Hands off: the flow page does not poll, so a newer run can only arrive through the event stream.
    if (scheduled !== undefined) {
      const first = await eventually('a run on the graph', async () => (await shownRun()) ?? undefined);
      await eventually('a newer scheduled run on the graph', async () => {
        const now = await shownRun();
        return now !== null && now !== first ? now : undefined;
      });
      await until(page, 'the scheduled run Completed on the graph', allNodesDone(taskCount));
      await screenshot(page, 'flow-scheduled-run-live');
    }

    const started = page.waitForResponse((r) => r.url().endsWith(`/api/flows/${encodeURIComponent(flow.name)}/runs`) && r.request().method() === 'POST');
    await page.fill('textarea[name="params"]', '{"tables": ["orders", "payments"]}');
    await page.click('form[name="run-flow"] button[type="submit"]');
    const response = await started;
    assert.equal(response.status(), 201);
    const { runId } = (await response.json()) as { runId: string };
    await page.waitForSelector(`.graph-run[data-run="${runId}"]`, { timeout: 15_000 });
    await until(page, 'every task of the started run Completed on the graph', allNodesDone(taskCount), 60_000);
    await page.waitForSelector(`.graph-run[data-run="${runId}"] .badge[data-state="Completed"]`, { timeout: 15_000 });
    await screenshot(page, 'flow-run-completed');
    const completedStroke = await page.evaluate<string>(`getComputedStyle(document.querySelector('.dag-node[data-state="Completed"] rect')).stroke`);
    assert.equal(completedStroke, COMPLETED_RGB, 'Completed nodes are drawn in the Completed colour');
    // The grid has a column for the run, and the Gantt chart a bar per task.
    await page.waitForSelector('.gantt-bar.state-Completed');
    assert.equal(await page.evaluate<number>('window.__kairosMarker'), 42, 'the page was not reloaded');
    const run = await apiGet<{ run: { state: string; params: unknown } }>(dev.url, `/api/runs/${runId}`);
    assert.equal(run.run.state, 'Completed');
    assert.deepEqual((run.run.params as { tables: string[] }).tables, ['orders', 'payments'], 'the form sent the parameters');
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('pauses a schedule and it stops firing', async () => {
    const jobs = await apiGet<JobsAnswer>(dev.url, '/api/local/jobs');
    // The most frequent job (the heartbeat: every 100 ms under --fast).
    const job = jobs.jobs.find((j) => j.id === 'heartbeat') ?? jobs.jobs[0];
    assert.ok(job !== undefined, 'kairos dev has local jobs');
    const row = `tr[data-job="${job.id}"]`;
    const { page, problems } = await visit('/schedules', (p) => p.waitForSelector(row));
    const runsShown = (): Promise<number> => page.evaluate<number>(runsShownIn(row));
    // It is firing: the count on the page grows by itself.
    const before = await runsShown();
    await until(page, 'the run count to grow', `${runsShownIn(row)} > ${before}`);

    await page.locator(row).getByRole('button', { name: 'Pause' }).click();
    await page.waitForSelector(`${row}[data-paused="true"]`);
    const pausedApi = await apiGet<{ runCount: number; paused: boolean }>(dev.url, `/api/local/jobs/${encodeURIComponent(job.id)}`);
    assert.equal(pausedApi.paused, true);
    await screenshot(page, 'schedule-paused');
    // Ten periods of the job pass; a fresh load must show the same count as just after the pause.
    await page.waitForTimeout(1_500);
    await page.reload();
    await page.waitForSelector(`${row}[data-paused="true"]`);
    assert.equal(await runsShown(), pausedApi.runCount, 'no fire while paused (page)');
    assert.equal((await apiGet<{ runCount: number }>(dev.url, `/api/local/jobs/${encodeURIComponent(job.id)}`)).runCount, pausedApi.runCount, 'no fire while paused (API)');

    await page.locator(row).getByRole('button', { name: 'Resume' }).click();
    await page.waitForSelector(`${row}[data-paused="false"]`);
    await until(page, 'the run count to grow again', `${runsShownIn(row)} > ${pausedApi.runCount}`);
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('replays a dead letter', async () => {
    const queue = await eventually('a dead letter', async () => (await apiGet<QueuesAnswer>(dev.url, '/api/queues')).queues.find((q) => q.dead > 0), 60_000);
    const { page, problems } = await visit(`/queues/${encodeURIComponent(queue.queue)}?provider=${encodeURIComponent(queue.provider)}`, (p) => p.waitForSelector('tr[data-dead-letter]'));
    const jobId = await page.locator('tr[data-dead-letter]').first().getAttribute('data-dead-letter');
    assert.ok(jobId !== null);
    // By id: the list refetches as other letters arrive, and `.first()` could move to another one.
    const row = page.locator(`tr[data-dead-letter="${jobId}"]`);
    await row.getByRole('button', { name: 'Inspect' }).click();
    await page.waitForSelector('.step-detail .json');
    assert.match(await page.locator('.step-detail .json').innerText(), new RegExp(jobId));
    await screenshot(page, 'dead-letter-inspect');

    const replayed = page.waitForResponse((r) => r.url().includes('/dead-letters/replay') && r.request().method() === 'POST');
    await row.getByRole('button', { name: 'Replay' }).click();
    const response = await replayed;
    assert.equal(response.status(), 200);
    assert.deepEqual(await response.json(), { replayed: 1 });
    assert.deepEqual(JSON.parse(response.request().postData() ?? '{}'), { ids: [jobId] });
    await page.waitForSelector(`.notice:has-text("${jobId}")`);
    await screenshot(page, 'dead-letter-replayed');
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('sends an event that starts a workflow', async () => {
    const deployments = await apiGet<DeploymentsAnswer>(dev.url, '/api/deployments');
    const byEvent = deployments.deployments.find((d) => d.target.kind === 'workflow' && d.eventTrigger !== null);
    // kairos dev deploys retrain-on-drift-event (event drift.detected, match {model: demand}).
    assert.ok(byEvent?.eventTrigger != null, `kairos dev deploys an event-triggered workflow: ${JSON.stringify(deployments)}`);
    const { page, problems } = await visit('/workflows', (p) => p.waitForSelector('form[name="send-event"]'));
    await page.fill('input[name="event-name"]', byEvent.eventTrigger.event);
    await page.fill('textarea[name="event-payload"]', JSON.stringify(byEvent.eventTrigger.match ?? {}));
    const sent = page.waitForResponse((r) => r.url().endsWith('/api/events') && r.request().method() === 'POST');
    await page.click('form[name="send-event"] button[type="submit"]');
    const answer = (await (await sent).json()) as { started: Array<{ deployment: string; runId: string | null }> };
    const started = answer.started.find((s) => s.deployment === byEvent.name);
    assert.ok(started?.runId != null, `the event started ${byEvent.name}: ${JSON.stringify(answer)}`);
    await page.waitForSelector(`tr[data-event="${byEvent.eventTrigger.event}"]`);
    await screenshot(page, 'event-sent');
    await page.locator(`.emit-result a[href="/runs/${started.runId}"]`).click();
    await page.waitForSelector('.timeline');
    assert.match(await page.locator('.page-head').innerText(), new RegExp(`workflow run\\s+${started.runId}`));
    await screenshot(page, 'event-workflow-run');
    await page.close();
    assert.deepEqual(problems, []);
  });
});
