import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { LANE_STARTERS, type DevContext, type StartedLane } from '../../app/demo/lanes.js';
import { createKairos, type Kairos } from '../../app/kairos.js';
import { loadTokens } from '../../app/tokens.js';
import { ConfigError, toError } from '../../errors.js';
import { isLoopbackHost } from '../../server/auth.js';

/**
 * `kairos dev`: everything in one process on the embedded SQLite store — every lane doing the seed's
 * example work (see src/app/demo/lanes.ts, one starter per lane), the HTTP API and the UI on
 * 127.0.0.1:4000 (anonymous on loopback), what fires printed as it happens, and a status line per lane.
 */

export { LANE_STARTERS, startLocalLane, type DevContext, type LaneStarter, type StartedLane } from '../../app/demo/lanes.js';

interface DevOptions {
  db: string;
  duration?: string;
  once?: boolean;
  fast?: boolean;
  statusEvery: string;
  json?: boolean;
  port: string;
  host: string;
  tokenFile?: string;
  slackWebhook?: string;
  webhook: string[];
}

/** The built web UI, next to src/ and dist/ in the package. */
export const UI_DIST_DIR = fileURLToPath(new URL('../../../ui/dist', import.meta.url));

const STOP_DEADLINE_MS = 5_000;

function parseSeconds(flag: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(`${flag}: expected a positive number of seconds, got '${text}'.`, { details: { field: flag } });
  }
  return seconds;
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError(`--port: expected 0..65535, got '${text}'.`, { details: { field: 'port' } });
  return port;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Run every lane in one process on the embedded SQLite store, with the seed\'s example work, the HTTP API and the UI.')
    .option('--db <path>', 'SQLite file of the dev store', './.kairos/kairos.db')
    .option('--duration <seconds>', 'stop and exit after this many seconds')
    .option('--once', 'run every job once now, print the results, and exit (no HTTP server)', false)
    .option('--fast', 'speed the demo up: maintenance schedules ÷100, queue/flow/workflow work every few seconds', false)
    .option('--status-every <seconds>', 'how often to print the status line', '5')
    .option('--json', 'print JSON lines instead of text', false)
    .option('--port <port>', 'HTTP port of the API and UI (0 picks a free one)', '4000')
    .option('--host <host>', 'interface to listen on; anything but loopback needs tokens (--token-file or KAIROS_TOKENS)', '127.0.0.1')
    .option('--token-file <path>', 'API tokens, one name:role:token per line')
    .option('--slack-webhook <url>', 'send alerts to this Slack incoming webhook (env KAIROS_SLACK_WEBHOOK_URL); never printed')
    .option('--webhook <url>', 'send alerts as JSON to this URL (repeatable; env KAIROS_WEBHOOK_URL); never printed', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(async (options: DevOptions) => runDev(options));
}

async function runDev(options: DevOptions): Promise<void> {
  const durationS = parseSeconds('--duration', options.duration);
  const statusEveryS = parseSeconds('--status-every', options.statusEvery) ?? 5;
  const port = parsePort(options.port);
  const dbPath = resolve(options.db);
  const json = options.json === true;
  const print = (lane: string, line: string, fields: Record<string, unknown> = {}): void => {
    const at = new Date();
    process.stdout.write(
      json
        ? `${JSON.stringify({ time: at.toISOString(), lane, msg: line, ...fields }, (_k, v: unknown) => (v instanceof Error ? v.message : v))}\n`
        : `${at.toISOString().slice(11, 23)} [${lane}] ${line}\n`,
    );
  };
  const tokens = loadTokens({ tokenFile: options.tokenFile });
  const serve = options.once !== true;
  const alerts = alertOptions(options);
  const kairos = await createKairos({
    ...(alerts === undefined ? {} : { alerts }),
    store: dbPath,
    queue: { pollWaitMs: 500 },
    engine: { pollIntervalMs: 250 },
    scheduler: { pollMs: 500 },
    ...(serve
      ? { http: { auth: { tokens, allowAnonymousLoopback: isLoopbackHost(options.host) }, host: options.host, port, uiDir: UI_DIST_DIR } }
      : {}),
  });
  print('dev', `store ${dbPath}${options.fast === true ? ' · --fast: demo schedules sped up (maintenance ÷100)' : ''}`);
  // Says where alerts go without the URLs: they are secrets (a Slack webhook URL is a write credential).
  if (alerts !== undefined) print('dev', `alerts on: ${[alerts.slack === undefined ? null : 'Slack', alerts.webhooks.length === 0 ? null : `${alerts.webhooks.length} webhook(s)`].filter((d) => d !== null).join(' and ')}`);
  const ctx: DevContext = { kairos, speedup: options.fast === true ? 100 : 1, print, dbPath };
  const lanes: StartedLane[] = [];
  const stopAll = async (): Promise<void> => {
    for (const lane of [...lanes].reverse()) await Promise.resolve(lane.stop()).catch(() => undefined);
    await kairos.stop({ deadlineMs: STOP_DEADLINE_MS });
  };
  try {
    for (const start of LANE_STARTERS) lanes.push(await start(ctx));
    await kairos.start();
    for (const lane of lanes) await lane.afterStart();
  } catch (error) {
    await stopAll();
    throw error;
  }

  if (options.once === true) {
    try {
      for (const lane of lanes) await lane.runAllOnce();
    } finally {
      await stopAll();
    }
    return;
  }
  printUrl(kairos, print);

  const printStatus = async (): Promise<void> => {
    for (const lane of lanes) {
      try {
        print('status', `${lane.name}: ${await lane.status()}`);
      } catch (error) {
        print('status', `${lane.name}: status unavailable (${toError(error).message})`);
      }
    }
  };
  const statusTimer = setInterval(() => void printStatus(), statusEveryS * 1_000);

  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const reason = await new Promise<string>((resolveStop) => {
    onSignal = (signal) => resolveStop(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (durationS !== null) setTimeout(() => resolveStop(`--duration ${durationS}s elapsed`), durationS * 1_000).unref();
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  clearInterval(statusTimer);
  print('dev', `stopping (${reason})`);
  await printStatus();
  await stopAll();
  print('dev', 'stopped');
  process.exitCode = 0;
}

/** `--slack-webhook` / `--webhook` (or their env variables) → alert options; undefined when neither is set. */
function alertOptions(options: DevOptions): { slack?: { webhookUrl: string }; webhooks: Array<{ url: string; name: string }> } | undefined {
  // The env variable is read here, not as commander's default, which --help would print.
  const slackUrl = [options.slackWebhook, process.env.KAIROS_SLACK_WEBHOOK_URL].find((url) => url !== undefined && url !== '');
  const envWebhook = process.env.KAIROS_WEBHOOK_URL;
  const webhookUrls = [...options.webhook, ...(options.webhook.length === 0 && envWebhook !== undefined && envWebhook !== '' ? [envWebhook] : [])];
  if (slackUrl === undefined && webhookUrls.length === 0) return undefined;
  return {
    ...(slackUrl === undefined ? {} : { slack: { webhookUrl: slackUrl } }),
    webhooks: webhookUrls.map((url, i) => ({ url, name: `webhook[${i}]` })),
  };
}

function printUrl(kairos: Kairos, print: DevContext['print']): void {
  const url = kairos.url ?? '';
  const ui = kairos.server?.app.hasRoute({ method: 'GET', url: '/*' }) === true ? `UI ${url}/ · ` : 'UI not built (npm run build in ui/) · ';
  print('dev', `${ui}API ${url}/api · metrics ${url}/metrics · live ${url}/api/events/stream${kairos.server?.anonymousAllowed === true ? ' (anonymous on loopback)' : ' (bearer token required)'}`, { url });
}
