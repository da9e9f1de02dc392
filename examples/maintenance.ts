// The seed's maintenance jobs on the local lane, written the way the seed writes them.
// Run: npx tsx examples/maintenance.ts   (Ctrl-C to stop; add --fast to divide the schedules by 100)
import { createLocalScheduler, createMaintenanceJobs, openSqliteStore } from '../src/index.js';

const fast = process.argv.includes('--fast');
const speedup = fast ? 100 : 1;

// The store is optional: with it, jobs marked persistent resume their schedule after a restart.
const store = openSqliteStore({ path: './.kairos/example.db' });
const scheduler = createLocalScheduler({ store, budgetMs: 5_000 });
const jobs = createMaintenanceJobs();

// The seed's API, as written there (APScheduler 3.x keywords). It returns the JobHandle at once
// (no promise): bad input throws right here, and nothing is half-registered.
scheduler.scheduleInternalTask(jobs.healthCheck, { trigger_type: 'interval', seconds: 30 / speedup, id: 'health-check', persistent: true });
scheduler.scheduleInternalTask(jobs.collectMetrics, { trigger_type: 'interval', seconds: 60 / speedup, id: 'metrics', persistent: true });
scheduler.scheduleInternalTask(jobs.cleanupCache, fast ? { trigger_type: 'cron', second: '*/2', id: 'cache-cleanup' } : { trigger_type: 'cron', hour: '*', id: 'cache-cleanup' });

// The same thing, idiomatically.
scheduler.every(10_000 / speedup, jobs.heartbeat, { id: 'heartbeat' });
scheduler.every(45_000 / speedup, jobs.warmCache, { id: 'cache-warming', jitterMs: 1_000 / speedup });

// A job that breaks the local lane's checklist: it is reported as a misfit, with the lane to move it to.
scheduler.cron('*/20 * * * * *', async () => new Promise((resolve) => setTimeout(resolve, 6_000)), { id: 'slow-report', timeoutMs: 10_000 });

scheduler.events.on('job_executed', (e) => console.log(`${e.jobId} ✓ late ${e.lateMs} ms →`, e.result));
scheduler.events.on('job_misfit', (e) => console.warn(`misfit: ${e.message}`));
scheduler.events.on('job_missed', (e) => console.warn(`${e.jobId} missed ${e.count} fire(s)`));

await scheduler.start();
for (const job of scheduler.listJobs()) console.log(`${job.id.padEnd(14)} ${job.trigger.padEnd(50)} next ${new Date(job.nextRunMs ?? 0).toISOString()}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (async () => {
      const report = await scheduler.stop({ deadlineMs: 5_000 });
      jobs.close();
      await store.close();
      console.log(`stopped: ${report.finishedRuns} finished, ${report.abortedRuns.length} aborted`);
    })();
  });
}
