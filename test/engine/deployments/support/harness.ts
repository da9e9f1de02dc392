import { createDeployments, type Deployments } from '../../../../src/engine/deployments/deployments.js';
import type { FireEvent } from '../../../../src/engine/deployments/firing.js';
import { createScheduler, type DeploymentScheduler } from '../../../../src/engine/scheduler/scheduler.js';
import { openSqliteStore } from '../../../../src/store/sqlite/open.js';
import type { Store } from '../../../../src/store/store.js';
import { FakeClock } from '../../support/fake-clock.js';
import { StoreLauncher } from './store-launcher.js';

export interface Harness {
  store: Store;
  clock: FakeClock;
  launcher: StoreLauncher;
  deployments: Deployments;
  scheduler: DeploymentScheduler;
  fires: FireEvent[];
  /** Moves the fake clock and waits for the scheduler to finish what that made due. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** An embedded store, a fake clock, the store launcher, deployments and a running scheduler. */
export async function createHarness(startMs: number, store: Store = openSqliteStore({ path: ':memory:' })): Promise<Harness> {
  const clock = new FakeClock(startMs);
  const launcher = await StoreLauncher.create(store, () => clock.now());
  const deployments = createDeployments({ store, launcher, clock, schedulerId: 'test' });
  const scheduler = createScheduler({ deployments, pollMs: 60_000 });
  const fires: FireEvent[] = [];
  deployments.events.on('fire', (e) => fires.push(e));
  scheduler.start();
  await scheduler.whenIdle();
  return {
    store,
    clock,
    launcher,
    deployments,
    scheduler,
    fires,
    async advance(ms: number) {
      // Step through time so each timer's tick completes before the next one is due.
      const targetMs = clock.now() + ms;
      for (;;) {
        await scheduler.whenIdle();
        const wake = scheduler.nextWakeAtMs;
        if (wake === null || wake > targetMs) break;
        clock.set(Math.max(wake, clock.now()));
        await scheduler.whenIdle();
        if (scheduler.nextWakeAtMs === wake) break;
      }
      clock.set(targetMs);
      await scheduler.whenIdle();
    },
    async close() {
      await scheduler.stop();
      deployments.close();
      await store.close();
    },
  };
}
