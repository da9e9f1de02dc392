/**
 * Example definitions for `kairos run` (the default `--app`): an ML retraining flow and a
 * drift → retrain durable workflow. The "work" is simulated with small, deterministic functions so
 * the example runs anywhere in well under a second.
 */
import { z } from 'zod';
import { flow, task, workflow } from '../src/index.js';

const retrainParams = z.object({
  /** Days of history to train on. */
  days: z.number().int().positive().default(30),
  /** Models to retrain, one training task each (a map fan-out). */
  models: z.array(z.string()).default(['demand', 'damage', 'anomaly']),
  /** Minimum validation score for a model to be published. */
  minScore: z.number().min(0).max(1).default(0.6),
});
type RetrainParams = z.infer<typeof retrainParams>;

const score = (text: string): number => {
  let hash = 7;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) % 1_000;
  return 0.5 + (hash % 500) / 1_000;
};

/** extract → features → train (one task per model) → validate → publish. */
export const retrainModels = flow<RetrainParams>('retrain-models', {
  params: retrainParams,
  description: 'Weekly retraining: extract data, compute features, train each model, validate, publish.',
  concurrency: 4,
  tasks: {
    extract: task<RetrainParams>({
      retries: { count: 2, delayMs: 500, backoff: 'exponential' },
      run: (ctx) => {
        ctx.log.info('extracting', { days: ctx.params.days });
        return { rows: ctx.params.days * 1_000, until: '2024-06-30' };
      },
    }),
    features: task<RetrainParams>({
      needs: ['extract'],
      cache: { key: ({ upstream }) => JSON.stringify(upstream.extract), expiresInMs: 24 * 3_600_000 },
      run: (_ctx, upstream) => {
        const { rows } = upstream.extract as { rows: number };
        return { table: `features_${rows}`, columns: 42 };
      },
    }),
    models: task<RetrainParams>({ run: (ctx) => ctx.params.models }),
    train: task<RetrainParams>({
      needs: ['features', 'models'],
      map: 'models',
      tags: ['gpu'],
      timeoutMs: 60_000,
      run: (ctx, upstream) => {
        const model = upstream.models as string;
        ctx.log.info('training', { model, item: ctx.mapIndex });
        return { model, artifact: `s3://models/${model}/${(upstream.features as { table: string }).table}` };
      },
    }),
    validate: task<RetrainParams>({
      needs: ['train'],
      run: (ctx, upstream) =>
        (upstream.train as Array<{ model: string; artifact: string }>).map((trained) => ({
          ...trained,
          score: score(trained.model),
          passed: score(trained.model) >= ctx.params.minScore,
        })),
    }),
    publish: task<RetrainParams>({
      needs: ['validate'],
      run: (ctx, upstream) => {
        const passed = (upstream.validate as Array<{ model: string; passed: boolean }>).filter((model) => model.passed).map((model) => model.model);
        ctx.log.info('publishing', { passed });
        return { published: passed };
      },
    }),
    alertOnFailure: task<RetrainParams>({ needs: ['train', 'validate'], triggerRule: 'one_failed', run: (ctx) => ctx.log.error('retraining failed') }),
  },
  tagConcurrency: { gpu: 2 },
});

/**
 * Waits for a drift event for `model`; past the threshold, retrains it (as a child flow run),
 * lets the shadow deployment soak, then promotes it.
 */
export const driftRetrain = workflow(
  'drift-retrain',
  async (ctx, input: { model: string; threshold: number; soak: string; waitMs?: number }) => {
    const drift = await ctx.waitForEvent<{ model: string; score: number }>('drift.detected', {
      match: { model: input.model },
      timeoutMs: input.waitMs ?? 7 * 86_400_000,
    });
    if (drift.score < input.threshold) return { model: input.model, action: 'none', score: drift.score };
    const child = await ctx.startChild<{ publish: { published: string[] } }>('retrain-models', { models: [input.model] });
    const retrained = await child.result();
    await ctx.step('deploy-shadow', () => ({ shadow: `${input.model}-shadow` }));
    await ctx.sleep(input.soak);
    const promoted = await ctx.step('promote', () => retrained.publish.published.includes(input.model));
    return { model: input.model, action: promoted ? 'promoted' : 'kept', score: drift.score, retrainRun: child.runId };
  },
  { input: z.object({ model: z.string(), threshold: z.number().default(0.3), soak: z.string().default('1s'), waitMs: z.number().optional() }) },
);
