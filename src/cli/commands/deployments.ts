import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { createDeployments, type Deployments } from '../../engine/deployments/deployments.js';
import { describeSchedule } from '../../engine/deployments/schedule.js';
import { createEngine, type AnyDefinition } from '../../engine/runtime/engine.js';
import { openPostgresStore } from '../../store/postgres/open.js';
import { openSqliteStore } from '../../store/sqlite/open.js';
import type { Store } from '../../store/store.js';

/** Options every deployments-related command takes to find the store (and the flows, to start runs). */
export interface StoreCliOptions {
  store: string;
  schema: string;
  app?: string;
  json?: boolean;
}

export function withStoreOptions(command: Command): Command {
  return command
    .option('--store <path|url>', 'SQLite file or postgres:// URL (env KAIROS_STORE)', process.env.KAIROS_STORE ?? '.kairos/kairos.db')
    .option('--schema <name>', 'PostgreSQL schema (env KAIROS_SCHEMA)', process.env.KAIROS_SCHEMA ?? 'kairos')
    .option('--app <module>', 'module exporting the flows and workflows (needed to start runs)')
    .option('--json', 'machine-readable output', false);
}

export async function openCliStore(options: StoreCliOptions): Promise<Store> {
  return /^postgres(ql)?:\/\//.test(options.store)
    ? openPostgresStore({ connectionString: options.store, schema: options.schema })
    : openSqliteStore({ path: options.store });
}

/** Loads the flow and workflow definitions a module exports (any export with a kind and a name). */
async function loadDefinitions(app: string | undefined): Promise<AnyDefinition[]> {
  if (app === undefined) {
    throw new ConfigError('--app: give the module that exports your flows and workflows, so the run can be validated and created.', {
      details: { field: 'app' },
    });
  }
  const module = (await import(pathToFileURL(resolve(app)).href)) as Record<string, unknown>;
  return Object.values(module).filter(
    (value): value is AnyDefinition =>
      typeof value === 'object' && value !== null && ((value as { kind?: unknown }).kind === 'flow' || (value as { kind?: unknown }).kind === 'workflow'),
  );
}

/**
 * Opens the store and the deployments API, runs `work`, closes everything. With `launch`, the
 * engine (with the app's definitions) is the launcher: runs are created in the store for a worker
 * (`kairos dev` / `kairos server` / `kairos worker`) to execute.
 */
export async function withDeployments<T>(options: StoreCliOptions, launch: boolean, work: (deployments: Deployments, engine: ReturnType<typeof createEngine>) => Promise<T>): Promise<T> {
  const store = await openCliStore(options);
  try {
    const engine = createEngine({ store, definitions: launch ? await loadDefinitions(options.app) : [] });
    const deployments = createDeployments({ store, launcher: engine });
    try {
      return await work(deployments, engine);
    } finally {
      deployments.close();
    }
  } finally {
    await store.close();
  }
}

function parseParams(pairs: string[]): Record<string, unknown> {
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

const iso = (ms: number | undefined) => (ms === undefined ? '—' : new Date(ms).toISOString());

export function registerDeployments(program: Command): void {
  const group = program.command('deployments').description('List, pause, resume and trigger deployments.');
  withStoreOptions(group.command('ls').description('List deployments with their schedule and next fire.')).action(async (options: StoreCliOptions) => {
    await withDeployments(options, false, async (deployments) => {
      const rows = (await deployments.list()).map((d) => ({
        name: d.name,
        target: `${d.target.kind}:${d.target.name}`,
        schedule: describeSchedule(d.schedule),
        trigger: d.eventTrigger?.event ?? (d.metricTrigger === null ? null : `metric ${d.metricTrigger.metric}`),
        overlap: d.overlap,
        paused: d.paused,
        nextFireMs: d.paused ? null : (deployments.upcoming(d, 1)[0] ?? null),
      }));
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      if (rows.length === 0) process.stdout.write('no deployments\n');
      for (const r of rows) {
        process.stdout.write(
          `${r.name.padEnd(28)} ${r.target.padEnd(24)} ${r.schedule.padEnd(28)} ${r.paused ? 'paused'.padEnd(24) : `next ${iso(r.nextFireMs ?? undefined)}`}  ${r.overlap}${r.trigger === null ? '' : `  on ${r.trigger}`}\n`,
        );
      }
    });
  });
  for (const action of ['pause', 'resume'] as const) {
    withStoreOptions(group.command(`${action} <name>`).description(`${action === 'pause' ? 'Pause' : 'Resume'} a deployment.`)).action(
      async (name: string, options: StoreCliOptions) => {
        await withDeployments(options, false, async (deployments) => {
          const d = action === 'pause' ? await deployments.pause(name) : await deployments.resume(name);
          process.stdout.write(options.json === true ? `${JSON.stringify({ name: d.name, paused: d.paused })}\n` : `${d.name}: ${d.paused ? 'paused' : 'resumed'}\n`);
        });
      },
    );
  }
  withStoreOptions(group.command('trigger <name>').description('Start a run of the deployment now (its overlap policy applies).'))
    .option('--param <key=value...>', 'parameter overrides (values parsed as JSON when they parse)', [])
    .action(async (name: string, options: StoreCliOptions & { param: string[] }) => {
      await withDeployments(options, true, async (deployments) => {
        const outcome = await deployments.trigger(name, { parameters: parseParams(options.param) });
        process.stdout.write(options.json === true ? `${JSON.stringify(outcome)}\n` : `${name}: ${outcome.state}${outcome.runId === null ? '' : ` run ${outcome.runId}`}${outcome.reason === null ? '' : ` (${outcome.reason})`}\n`);
      });
    });
}
