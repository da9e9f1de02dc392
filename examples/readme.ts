// The README's "taste of the API", kept here so that `npm test` type-checks it: if this file stops
// compiling, the README is out of date. Run it with `node --import tsx examples/readme.ts`.
import { createKairos, flow, task, workflow } from '../src/index.js';

const fetchRows = (): Promise<number[]> => Promise.resolve([3, 1, 2]);
const clean = (rows: unknown): number[] => (rows as number[]).filter((n) => n > 1);
const save = (rows: unknown): Promise<{ saved: number }> => Promise.resolve({ saved: (rows as number[]).length });
const train = (model: string): Promise<{ model: string; version: number }> => Promise.resolve({ model, version: 2 });
const promote = (_candidate: unknown): Promise<void> => Promise.resolve();
const checkHealth = (): { ok: boolean } => ({ ok: true });
const heartbeat = (): void => undefined;
const backup = (): Promise<{ ok: boolean }> => Promise.resolve({ ok: true });
const repos = ['/srv/a'];

const etl = flow('nightly-etl', {
  tasks: {
    extract: task({ run: () => fetchRows() }),
    transform: task({ needs: ['extract'], run: (_ctx, { extract }) => clean(extract) }),
    load: task({ needs: ['transform'], retries: { count: 3, delayMs: 1_000, backoff: 'exponential' }, run: async (_ctx, up) => save(up.transform) }),
  },
});

const driftRetrain = workflow('drift-retrain', async (ctx, input: { model: string }) => {
  const candidate = await ctx.step('train', () => train(input.model));
  await ctx.sleep('1h');
  const verdict = await ctx.waitForEvent<{ ok: boolean }>('shadow.verdict', { match: { model: input.model }, timeoutMs: 86_400_000 });
  if (verdict.ok) await ctx.step('promote', () => promote(candidate));
});

const kairos = await createKairos({ store: ':memory:', definitions: [etl, driftRetrain], handlers: { daily_backup: backup } });
kairos.local.scheduleInternalTask(checkHealth, { trigger_type: 'interval', seconds: 30, id: 'health-check' });
kairos.local.every('10s', heartbeat);
await kairos.deployments.deploy(etl, { name: 'nightly-etl', schedule: { cron: '0 2 * * *', timezone: 'Europe/London' } });
await kairos.start();
await kairos.queue.enqueueWorkflow('daily_backup', { queueProvider: 'sqlite', context: { repos }, metadata: { scheduleTime: '2026-02-07T02:00:00Z' } });
await kairos.emit('drift.detected', { model: 'demand', score: 0.41 });
await kairos.stop({ deadlineMs: 2_000 });
