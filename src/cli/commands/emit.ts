import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { createEventBus } from '../../engine/events/event-bus.js';
import { withDeployments, withStoreOptions, type StoreCliOptions } from './deployments.js';

export function registerEmit(program: Command): void {
  withStoreOptions(program.command('emit <name>').description('Record an event, start the deployments it triggers, wake workflows waiting for it.'))
    .option('--payload <json>', 'the event payload as JSON', 'null')
    .action(async (name: string, options: StoreCliOptions & { payload: string }) => {
      let payload: unknown;
      try {
        payload = JSON.parse(options.payload);
      } catch (cause) {
        throw new ConfigError(`--payload: not valid JSON (${cause instanceof Error ? cause.message : String(cause)}).`, { cause, details: { field: 'payload' } });
      }
      // Without --app no deployment can be started, but the event is still recorded and delivered.
      await withDeployments(options, options.app !== undefined, async (deployments, engine) => {
        const bus = createEventBus({ deployments, deliverEvent: (event, body) => engine.deliverEvent(event, body) });
        const result = await bus.emit(name, payload);
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        process.stdout.write(`event ${result.eventId} '${name}' recorded; delivered to ${result.delivered} waiting run(s)\n`);
        for (const s of result.started) process.stdout.write(`  ${s.deployment}: ${s.outcome.state}${s.outcome.runId === null ? '' : ` run ${s.outcome.runId}`}\n`);
      });
    });
}
