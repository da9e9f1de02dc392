import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { formatDuration } from '../../core/duration.js';
import { createEngine, type AnyDefinition } from '../../engine/runtime/engine.js';
import type { RunRecord } from '../../engine/types.js';
import { openCliStore, withStoreOptions, type StoreCliOptions } from './deployments.js';

export const DEFAULT_APP = 'examples/pipelines.ts';

interface RunCliOptions extends StoreCliOptions {
  param: string[];
  wait?: boolean;
  timeoutMs?: string;
  idempotencyKey?: string;
}

/** Loads every flow/workflow definition a module exports (directly, or in an exported array). */
export async function loadApp(app: string): Promise<AnyDefinition[]> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(app)).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`--app: cannot load '${app}': ${cause instanceof Error ? cause.message : String(cause)}`, { cause, details: { field: 'app', value: app } });
  }
  const isDefinition = (value: unknown): value is AnyDefinition =>
    typeof value === 'object' && value !== null && ((value as { kind?: unknown }).kind === 'flow' || (value as { kind?: unknown }).kind === 'workflow');
  const found = new Set<AnyDefinition>();
  for (const value of Object.values(module)) {
    if (isDefinition(value)) found.add(value);
    else if (Array.isArray(value)) for (const item of value) if (isDefinition(item)) found.add(item);
  }
  if (found.size === 0) throw new ConfigError(`--app: '${app}' exports no flow(...) or workflow(...) definitions.`, { details: { field: 'app', value: app } });
  return [...found];
}

/** `--param k=v`: the value is parsed as JSON when it is JSON (numbers, booleans, arrays), else kept as text. */
export function parseParamPairs(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError(`--param: '${pair}' is not key=value.`, { details: { field: 'param', value: pair } });
    const raw = pair.slice(at + 1);
    try {
      params[pair.slice(0, at)] = JSON.parse(raw) as unknown;
    } catch {
      params[pair.slice(0, at)] = raw;
    }
  }
  return params;
}

export function describeRun(run: RunRecord): string {
  const took = run.startedMs !== null && run.endedMs !== null ? ` in ${formatDuration(run.endedMs - run.startedMs)}` : '';
  return `${run.kind} ${run.name} run ${run.id}: ${run.state}${took}${run.error === null ? '' : ` — ${run.error.message}`}`;
}

export function registerRun(program: Command): void {
  withStoreOptions(program.command('run <name>').description('Start a flow or workflow run; with --wait, execute it in this process and wait for it.'))
    .option('--param <key=value>', 'a run parameter (repeatable); JSON values are parsed', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--wait', 'execute the run here (a worker with the app’s definitions) and wait until it finishes', false)
    .option('--timeout-ms <ms>', 'with --wait: give up after this long')
    .option('--idempotency-key <key>', 'a second run with the same key is not created')
    .action(async (name: string, options: RunCliOptions) => {
      const definitions = await loadApp(options.app ?? DEFAULT_APP);
      const store = await openCliStore(options);
      const engine = createEngine({ store, definitions, pollIntervalMs: 200 });
      try {
        const { runId, created } = await engine.run(name, parseParamPairs(options.param), { idempotencyKey: options.idempotencyKey });
        if (options.wait !== true) {
          process.stdout.write(options.json === true ? `${JSON.stringify({ runId, created })}\n` : `${created ? 'created' : 'exists'} run ${runId}\n`);
          return;
        }
        await engine.start();
        const run = await engine.waitForRun(runId, options.timeoutMs === undefined ? {} : { timeoutMs: Number(options.timeoutMs) });
        if (options.json === true) process.stdout.write(`${JSON.stringify(run)}\n`);
        else {
          process.stdout.write(`${describeRun(run)}\n`);
          if (run.result !== undefined) process.stdout.write(`result: ${JSON.stringify(run.result)}\n`);
        }
        if (run.state !== 'Completed') process.exitCode = 1;
      } finally {
        await engine.stop({ deadlineMs: 5_000 });
        await store.close();
      }
    });
}
