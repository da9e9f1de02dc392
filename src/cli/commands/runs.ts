import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { RunState } from '../../core/states.js';
import { formatDuration } from '../../core/duration.js';
import { createEngine, type Engine } from '../../engine/runtime/engine.js';
import { openCliStore, withStoreOptions, type StoreCliOptions } from './deployments.js';
import { describeRun } from './run.js';

interface ListOptions extends StoreCliOptions {
  name?: string;
  state?: string;
  limit: string;
}

/** Runs `work` with an engine over the store (no definitions needed: inspection, cancel and retry only). */
async function withEngine(options: StoreCliOptions, work: (engine: Engine) => Promise<void>): Promise<void> {
  const store = await openCliStore(options);
  try {
    await work(createEngine({ store }));
  } finally {
    await store.close();
  }
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('Inspect, cancel and retry flow and workflow runs.');

  withStoreOptions(runs.command('ls').description('List runs, newest first.'))
    .option('--name <name>', 'only runs of this flow or workflow')
    .option('--state <state>', `only runs in this state (${Object.values(RunState).join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: ListOptions) => {
      if (options.state !== undefined && !(Object.values(RunState) as string[]).includes(options.state))
        throw new ConfigError(`--state: '${options.state}' is not a run state; use one of ${Object.values(RunState).join(', ')}.`, { details: { field: 'state' } });
      await withEngine(options, async (engine) => {
        const list = await engine.listRuns({ name: options.name, state: options.state as RunState | undefined, limit: Number(options.limit) });
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(list)}\n`);
          return;
        }
        if (list.length === 0) {
          process.stdout.write('no runs\n');
          return;
        }
        const rows = list.map((run) => [run.id, run.kind, run.name, run.state, iso(run.createdMs), run.startedMs !== null && run.endedMs !== null ? formatDuration(run.endedMs - run.startedMs) : '-']);
        const header = ['ID', 'KIND', 'NAME', 'STATE', 'CREATED', 'TOOK'];
        const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
        for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}\n`);
      });
    });

  withStoreOptions(runs.command('show <runId>').description('A run with its journal (steps) and timeline.')).action(async (runId: string, options: StoreCliOptions) => {
    await withEngine(options, async (engine) => {
      const run = await engine.getRun(runId);
      const steps = await engine.listSteps(runId);
      const events = await engine.listEvents(runId);
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify({ run, steps, events })}\n`);
        return;
      }
      process.stdout.write(`${describeRun(run)}\n`);
      process.stdout.write(`params: ${JSON.stringify(run.params ?? null)}\n`);
      if (run.result !== undefined) process.stdout.write(`result: ${JSON.stringify(run.result)}\n`);
      process.stdout.write('steps:\n');
      for (const step of steps) {
        const took = step.startedMs !== null && step.endedMs !== null ? ` ${formatDuration(step.endedMs - step.startedMs)}` : '';
        process.stdout.write(`  ${step.key.padEnd(24)} ${step.state.padEnd(9)} attempt ${step.attempt}${took}${step.cached ? ' (cached)' : ''}${step.error === null ? '' : ` — ${step.error.message}`}\n`);
      }
      process.stdout.write('timeline:\n');
      for (const event of events) {
        const what = event.type === 'state' ? `${event.state ?? ''}${event.message === null ? '' : ` (${event.message})`}` : `${event.level ?? event.type} ${event.message ?? ''}`;
        process.stdout.write(`  ${iso(event.atMs)} ${event.stepKey === null ? '' : `[${event.stepKey}] `}${what}\n`);
      }
    });
  });

  withStoreOptions(runs.command('cancel <runId>').description('Cancel a run and its child runs.')).action(async (runId: string, options: StoreCliOptions) => {
    await withEngine(options, async (engine) => {
      await engine.cancel(runId);
      const run = await engine.getRun(runId);
      process.stdout.write(options.json === true ? `${JSON.stringify(run)}\n` : `${describeRun(run)}\n`);
    });
  });

  withStoreOptions(runs.command('retry <runId>').description('Run a failed run again; its completed steps are kept and not run again.')).action(
    async (runId: string, options: StoreCliOptions) => {
      await withEngine(options, async (engine) => {
        await engine.retry(runId);
        const run = await engine.getRun(runId);
        process.stdout.write(options.json === true ? `${JSON.stringify(run)}\n` : `${describeRun(run)} (attempt ${run.attempt}; a worker will execute it)\n`);
      });
    },
  );
}
