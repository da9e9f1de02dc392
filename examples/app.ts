// Every lane in one app on one store: a local job, a queue job with its handler, a flow on a cron
// deployment, a workflow started by an event, the HTTP API on 127.0.0.1:4000 and metrics.
// Run: npx tsx examples/app.ts   (Ctrl-C to stop)
import { z } from 'zod';
import { createKairos, flow, task, workflow } from '../src/index.js';

const report = flow('daily-report', {
  params: z.object({ day: z.string().default(() => new Date().toISOString().slice(0, 10)) }),
  tasks: {
    extract: task({ run: (ctx) => ({ day: (ctx.params as { day: string }).day, rows: 120 }) }),
    summarise: task({ needs: ['extract'], run: (_ctx, up) => ({ rows: (up.extract as { rows: number }).rows }) }),
  },
});

const onDrift = workflow('on-drift', async (ctx, input: { drift?: { model: string; score: number } }) => {
  const retrain = await ctx.startChild('daily-report', {});
  await retrain.result();
  return ctx.step('notify', () => ({ model: input.drift?.model, action: 'retrained' }));
});

const kairos = await createKairos({
  store: './.kairos/example-app.db',
  definitions: [report, onDrift],
  handlers: { send_email: (payload: { to: string }) => ({ sent: payload.to }) },
  http: { auth: { allowAnonymousLoopback: true }, port: 4000 },
});

kairos.local.every('10s', () => ({ alive: true }), { id: 'heartbeat' });
await kairos.deployments.deploy(report, { name: 'daily-report', schedule: { cron: '*/1 * * * *' } });
await kairos.deployments.deploy(onDrift, { name: 'retrain-on-drift', on: { event: 'drift.detected', payloadAs: 'drift' } });

kairos.live.listen((event) => console.log(event.type, JSON.stringify(event.data)));
await kairos.start();
console.log(`API on ${kairos.url}/api · metrics ${kairos.url}/metrics`);

await kairos.queue.enqueueWorkflow('send_email', { context: { to: 'ops@example.com' }, metadata: { scheduleTime: new Date(Date.now() + 2_000) } });
await kairos.emit('drift.detected', { model: 'demand', score: 0.41 });

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void kairos.stop({ deadlineMs: 5_000 }));
