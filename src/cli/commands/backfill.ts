import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { withDeployments, withStoreOptions, type StoreCliOptions } from './deployments.js';

function instant(text: string, field: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ConfigError(`--${field}: '${text}' is not an ISO date such as 2025-06-01 or 2025-06-01T02:00:00Z.`, { details: { field, value: text } });
  return ms;
}

export function registerBackfill(program: Command): void {
  withStoreOptions(program.command('backfill <deployment>').description('Create runs for every scheduled fire in a past range (idempotent).'))
    .requiredOption('--from <iso>', 'first instant of the range (inclusive)')
    .requiredOption('--to <iso>', 'last instant of the range (inclusive)')
    .action(async (name: string, options: StoreCliOptions & { from: string; to: string }) => {
      const fromMs = instant(options.from, 'from');
      const toMs = instant(options.to, 'to');
      await withDeployments(options, true, async (deployments) => {
        const bar = options.json === true ? null : new cliProgress.SingleBar({ format: 'backfill {bar} {value}/{total} fires | started {started} queued {buffered} existing {existing}' }, cliProgress.Presets.shades_classic);
        let begun = false;
        const result = await deployments.backfill(name, {
          fromMs,
          toMs,
          onProgress: (p) => {
            if (bar === null) return;
            if (!begun) {
              bar.start(p.total, 0, p);
              begun = true;
            }
            bar.update(p.done, p);
          },
        });
        bar?.stop();
        process.stdout.write(
          options.json === true
            ? `${JSON.stringify(result)}\n`
            : `${name}: ${result.total} fires — ${result.started} started, ${result.buffered} queued behind maxActiveRuns, ${result.existing} already recorded, ${result.failed} refused\n`,
        );
      });
    });
}
