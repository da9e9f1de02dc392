import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createKairos, type Kairos } from '../../src/app/kairos.js';
import { flow, task } from '../../src/engine/flow/define.js';

/**
 * /api/overview tells where each number comes from, and the store-backed ones survive a restart: a
 * failed flow run and a dead letter recorded by one process are still counted by the next one, while
 * the in-memory local-lane counts start again (and say so).
 */
const dir = mkdtempSync(join(tmpdir(), 'kairos-overview-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const broken = flow('broken', {
  tasks: {
    only: task({
      run: () => {
        throw new Error('no such table');
      },
    }),
  },
});

interface LaneCard {
  lane: string;
  lastHour: Record<string, number>;
  failures24h: number;
  sources: Record<string, string | null>;
}
interface OverviewBody {
  processStartedMs: number;
  lanes: LaneCard[];
}

async function open(): Promise<Kairos> {
  const app = await createKairos({
    store: join(dir, 'kairos.db'),
    definitions: [broken],
    handlers: {
      explode: () => {
        throw new Error('always');
      },
    },
    queue: { pollWaitMs: 50 },
    engine: { pollIntervalMs: 50 },
    http: { auth: { allowAnonymousLoopback: true }, port: 0 },
  });
  app.local.every('30ms', () => 'ok', { id: 'tick' });
  await app.start();
  return app;
}

async function overview(app: Kairos): Promise<Record<string, LaneCard> & { body: OverviewBody }> {
  const body = (await (await fetch(`${app.url!}/api/overview`)).json()) as OverviewBody;
  return Object.assign(Object.fromEntries(body.lanes.map((l) => [l.lane, l])), { body });
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('/api/overview: sources, and what survives a restart', () => {
  it('counts store-backed failures across a restart; process counts restart and say so', async () => {
    const first = await open();
    try {
      const { runId } = await first.engine.run('broken', {});
      assert.equal((await first.engine.waitForRun(runId, { timeoutMs: 10_000 })).state, 'Failed');
      await first.queue.enqueueWorkflow('explode', { context: {}, maxAttempts: 1 });
      await until(async () => (await overview(first)).queue!.failures24h === 1, 'the dead letter on the overview');
      await until(async () => ((await overview(first)).local!.lastHour.Completed ?? 0) >= 3, 'local runs');
      const before = await overview(first);
      assert.equal(before.flow!.failures24h, 1);
      assert.deepEqual(before.flow!.sources, { runs: 'store', failures: 'store', late: 'store', missed: 'store', depth: null });
      assert.deepEqual(before.queue!.sources, { runs: 'process', failures: 'store', late: null, missed: null, depth: 'provider' });
      assert.deepEqual(before.local!.sources, { runs: 'process', failures: 'process', late: 'process', missed: 'process', depth: null });
    } finally {
      await first.stop({ deadlineMs: 2_000 });
    }

    const second = await open();
    try {
      const after = await overview(second);
      assert.ok(after.body.processStartedMs > 0);
      assert.equal(after.flow!.failures24h, 1, 'the failed flow run is in the store');
      assert.equal(after.flow!.lastHour.Failed, 1);
      assert.equal(after.queue!.failures24h, 1, 'the dead letter is in the store');
      assert.ok((after.local!.lastHour.Completed ?? 0) < 3, 'local counts are this process’s, since it started');
    } finally {
      await second.stop({ deadlineMs: 2_000 });
    }
  });
});
