import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { AnyDefinition } from '../../engine/runtime/engine.js';
import type { JobHandler } from '../../queue/handlers.js';
import { createKairos } from '../../app/kairos.js';
import { loadTokens } from '../../app/tokens.js';
import { ConfigError } from '../../errors.js';
import { isLoopbackHost } from '../../server/auth.js';
import { parsePort, UI_DIST_DIR } from './dev.js';

/**
 * `kairos server`: the API, the UI, the deployment scheduler (leader-elected: run several on one
 * PostgreSQL schema and one leads) and the engine and queue workers, on a production store. Bearer
 * tokens are required (--token-file and/or KAIROS_TOKENS, `name:role:token`); anonymous access is
 * never on — not even on loopback.
 */

interface ServerFlags {
  store: string;
  schema: string;
  port: string;
  host: string;
  tokenFile?: string;
  provider?: string;
  url?: string;
  queue: string[];
  app?: string;
  concurrency: string;
  workers: boolean;
  json?: boolean;
}

const BROKER_ENV: Record<string, string> = {
  redis: 'KAIROS_REDIS_URL',
  nats: 'KAIROS_NATS_URL',
  rabbitmq: 'KAIROS_RABBITMQ_URL',
  kafka: 'KAIROS_KAFKA_BROKERS',
  cloudtasks: 'KAIROS_CLOUDTASKS_PARENT',
};

/** `--provider redis --url …` → the provider factory's options (the same flags as `kairos worker`). */
function providerOptions(provider: string | undefined, url: string | undefined): Record<string, unknown> {
  if (provider === undefined) return {};
  const address = url ?? process.env[BROKER_ENV[provider] ?? ''];
  if (address === undefined) return {};
  if (provider === 'kafka') return { brokers: address.split(',') };
  if (provider === 'cloudtasks') return { parent: address };
  return { url: address };
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('Serve the API and UI, lead scheduling (one leader among several servers) and run workers, on a production store. Tokens required.')
    .option('--store <path|url>', 'postgres:// URL (or a SQLite file for a single server) (env KAIROS_STORE)', process.env.KAIROS_STORE)
    .option('--schema <name>', 'PostgreSQL schema (env KAIROS_SCHEMA)', process.env.KAIROS_SCHEMA ?? 'kairos')
    .option('--port <port>', 'HTTP port', '8080')
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .option('--token-file <path>', 'API tokens, one name:role:token per line (also KAIROS_TOKENS, comma-separated)')
    .option('--provider <name>', 'queue provider: sqlite | postgres | redis | nats | rabbitmq | kafka | cloudtasks (default: the store’s)')
    .option('--url <address>', 'broker address (env KAIROS_REDIS_URL, KAIROS_NATS_URL, KAIROS_RABBITMQ_URL…)')
    .option('--queue <name>', 'queue served (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--app <module>', 'module exporting flows, workflows and `handlers` (queue job handlers by key)')
    .option('--concurrency <n>', 'queue handlers at once per queue', '4')
    .option('--no-workers', 'serve and schedule only; run no engine or queue workers here')
    .option('--json', 'JSON log lines', false)
    .action(async (flags: ServerFlags) => runServer(flags));
}

/** The app module: every exported flow / workflow, and `handlers` (queue job handlers by key) if exported. */
async function loadServerApp(path: string): Promise<{ definitions: AnyDefinition[]; handlers: Record<string, JobHandler> }> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`--app: cannot load '${path}': ${cause instanceof Error ? cause.message : String(cause)}`, { cause, details: { field: 'app' } });
  }
  const definitions = Object.values(module).filter(
    (value): value is AnyDefinition =>
      typeof value === 'object' && value !== null && ((value as { kind?: unknown }).kind === 'flow' || (value as { kind?: unknown }).kind === 'workflow'),
  );
  const handlers = module.handlers;
  if (handlers !== undefined && (typeof handlers !== 'object' || handlers === null)) {
    throw new ConfigError(`--app: '${path}' exports 'handlers' that is not an object of key → function.`, { details: { field: 'app' } });
  }
  return { definitions, handlers: (handlers ?? {}) as Record<string, JobHandler> };
}

async function runServer(flags: ServerFlags): Promise<void> {
  if (flags.store === undefined || flags.store === '') {
    throw new ConfigError('--store: give the PostgreSQL URL (postgres://…) or set KAIROS_STORE.', { details: { field: 'store' } });
  }
  const tokens = loadTokens({ tokenFile: flags.tokenFile });
  if (tokens.length === 0) {
    throw new ConfigError('kairos server needs API tokens: --token-file <path> or KAIROS_TOKENS=name:role:token,… (roles viewer | operator | admin).', {
      details: { field: 'tokens' },
    });
  }
  const print = (msg: string, fields: Record<string, unknown> = {}): void => {
    process.stdout.write(flags.json === true ? `${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n` : `${new Date().toISOString()} ${msg}\n`);
  };
  const { definitions, handlers } = flags.app === undefined ? { definitions: [], handlers: {} } : await loadServerApp(flags.app);
  const kairos = await createKairos({
    store: flags.store,
    schema: flags.schema,
    definitions,
    handlers,
    queue: {
      ...(flags.provider === undefined ? {} : { provider: flags.provider, providerOptions: providerOptions(flags.provider, flags.url) }),
      ...(flags.queue.length === 0 ? {} : { queues: flags.queue }),
      concurrency: Number(flags.concurrency),
      workers: flags.workers,
    },
    engine: { workers: flags.workers },
    http: { auth: { tokens }, host: flags.host, port: parsePort(flags.port), uiDir: UI_DIST_DIR },
  });
  kairos.live.listen((event) => {
    if (event.type === 'scheduler.leader') print(`scheduler leader: ${String((event.data as { leader: boolean }).leader)}`, { event: event.type });
    else if (event.type === 'run.state' || event.type === 'queue.job_dead' || event.type === 'deployment.fire') print(event.type, { event: event.type, data: event.data });
  });
  await kairos.start();
  print(`kairos server on ${kairos.url ?? ''} (${hostname()}): store ${kairos.store.dialect}, queue ${kairos.queueLane.provider.name}:${kairos.queueLane.queueNames.join(',')}, ${tokens.length} token(s)${isLoopbackHost(flags.host) ? ' (loopback only)' : ''}`, {
    url: kairos.url,
    leader: kairos.scheduler?.isLeader ?? false,
  });
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const reason = await new Promise<string>((resolveStop) => {
    onSignal = (signal) => resolveStop(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  print(`stopping (${reason})`);
  await kairos.stop({ deadlineMs: 10_000 });
  print('stopped');
  process.exitCode = 0;
}
