import { z } from 'zod';
import { flow, task } from '../../engine/flow/define.js';
import { workflow } from '../../engine/workflow/define.js';

/**
 * The demo work `kairos dev` deploys: a daily ETL flow and a model-retraining flow (the seed's data
 * and ML pipelines), and the drift → retrain → shadow → promote workflow started by a drift-score
 * threshold. The work is simulated with small deterministic computations so it runs anywhere fast.
 */

const etlParams = z.object({
  /** The day to process, YYYY-MM-DD. Default: yesterday (UTC). */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  tables: z.array(z.string().min(1)).min(1).default(['orders', 'customers', 'inventory']),
});
type EtlParams = z.infer<typeof etlParams>;

const checksum = (text: string): number => {
  let hash = 17;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash;
};

/** extract (one task per table) → validate → transform → load → report. */
export const nightlyEtl = flow<EtlParams>('nightly-etl', {
  params: etlParams,
  description: 'Daily ETL: extract each table, validate, compute features, load the warehouse, write the report.',
  concurrency: 4,
  tasks: {
    tables: task<EtlParams>({ run: (ctx) => ctx.params.tables }),
    extract: task<EtlParams>({
      needs: ['tables'],
      map: 'tables',
      retries: { count: 2, delayMs: 200, backoff: 'exponential' },
      run: (ctx, up) => {
        const table = up.tables as string;
        const day = ctx.params.day ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
        const rows = 100 + (checksum(`${table}:${day}`) % 900);
        ctx.log.info('extracted', { table, day, rows });
        return { table, day, rows };
      },
    }),
    validate: task<EtlParams>({
      needs: ['extract'],
      run: (_ctx, up) => {
        const batches = up.extract as Array<{ table: string; rows: number }>;
        return { valid: batches.every((b) => b.rows > 0), rows: batches.reduce((sum, b) => sum + b.rows, 0) };
      },
    }),
    transform: task<EtlParams>({
      needs: ['extract', 'validate'],
      run: (_ctx, up) => (up.extract as Array<{ table: string; rows: number }>).map((b) => ({ table: `features_${b.table}`, rows: b.rows })),
    }),
    load: task<EtlParams>({ needs: ['transform'], run: (_ctx, up) => ({ loaded: (up.transform as unknown[]).length }) }),
    report: task<EtlParams>({
      needs: ['load', 'validate'],
      run: (ctx, up) => {
        const summary = { tables: (up.load as { loaded: number }).loaded, rows: (up.validate as { rows: number }).rows };
        ctx.log.info('report written', summary);
        return summary;
      },
    }),
  },
});

const retrainParams = z.object({ model: z.string().min(1).default('demand'), minScore: z.number().min(0).max(1).default(0.6) });
type RetrainParams = z.infer<typeof retrainParams>;

/** features → train → validate → publish, for one model. */
export const retrainModel = flow<RetrainParams>('retrain-model', {
  params: retrainParams,
  description: 'Retrain one model: features, training, validation, publication.',
  tasks: {
    features: task<RetrainParams>({ run: (ctx) => ({ table: `features_${ctx.params.model}`, columns: 42 }) }),
    train: task<RetrainParams>({
      needs: ['features'],
      timeoutMs: 60_000,
      run: (ctx) => ({ model: ctx.params.model, artifact: `s3://models/${ctx.params.model}/${checksum(ctx.runId).toString(16)}` }),
    }),
    validate: task<RetrainParams>({
      needs: ['train'],
      run: (ctx, up) => {
        const score = 0.55 + (checksum(ctx.runId) % 400) / 1_000;
        return { ...(up.train as { model: string; artifact: string }), score, passed: score >= ctx.params.minScore };
      },
    }),
    publish: task<RetrainParams>({
      needs: ['validate'],
      run: (ctx, up) => {
        const result = up.validate as { model: string; passed: boolean; score: number };
        ctx.log.info(result.passed ? 'published' : 'kept the current model', result);
        return { published: result.passed, score: result.score };
      },
    }),
  },
});

/**
 * Started by the drift threshold (the metric trigger passes no payload): retrain as a child flow run,
 * deploy the candidate as a shadow, let it soak (a durable sleep), then promote it if it passed.
 */
export const driftRetrain = workflow(
  'drift-retrain',
  async (ctx, input: { model: string; soak: string }) => {
    const detectedAt = await ctx.now();
    const child = await ctx.startChild<{ publish: { published: boolean; score: number } }>('retrain-model', { model: input.model });
    const retrained = await child.result();
    await ctx.step('deploy-shadow', () => ({ shadow: `${input.model}-shadow`, since: new Date(detectedAt).toISOString() }));
    await ctx.sleep(input.soak);
    const promoted = await ctx.step('promote', () => retrained.publish.published);
    return { model: input.model, action: promoted ? 'promoted' : 'kept', score: retrained.publish.score, retrainRun: child.runId };
  },
  { input: z.object({ model: z.string().default('demand'), soak: z.string().default('30s') }), description: 'Drift → retrain → shadow → promote.' },
);
