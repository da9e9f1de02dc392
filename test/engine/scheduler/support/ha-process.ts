// One scheduler process for the HA chaos test and the lateness bench:
//   node --import tsx test/engine/scheduler/support/ha-process.ts <postgres-url> <schema> <scheduler-id> [leaderPollMs]
// Schedules every deployment in the schema with the store launcher (runs are rows, created_at_ms
// is this process's wall clock at start). Prints one JSON line per leadership change; SIGTERM stops it.
import { createDeployments } from '../../../../src/engine/deployments/deployments.js';
import { createScheduler } from '../../../../src/engine/scheduler/scheduler.js';
import { openPostgresStore } from '../../../../src/store/postgres/open.js';
import { StoreLauncher } from '../../deployments/support/store-launcher.js';

const [url, schema, id, pollText] = process.argv.slice(2);
if (url === undefined || schema === undefined || id === undefined) throw new Error('usage: ha-process.ts <url> <schema> <id> [leaderPollMs]');
const leaderPollMs = Number(pollText ?? 500);
const store = await openPostgresStore({ connectionString: url, schema, maxConnections: 4 });
const launcher = await StoreLauncher.create(store);
const deployments = createDeployments({ store, launcher, schedulerId: id });
const scheduler = createScheduler({ deployments, leaderPollMs, pollMs: 500 });
deployments.events.on('leader', ({ leader }) => process.stdout.write(`${JSON.stringify({ id, pid: process.pid, leader, atMs: Date.now() })}\n`));
scheduler.start();
process.stdout.write(`${JSON.stringify({ id, pid: process.pid, ready: true })}\n`);
// Die with the parent: a test runner that times out must not leave schedulers running.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();
process.on('SIGTERM', () => {
  void scheduler.stop().then(async () => {
    deployments.close();
    await store.close();
    process.exit(0);
  });
});
