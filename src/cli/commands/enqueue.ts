import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { createQueueClient } from '../../queue/client.js';
import { openQueueConnection } from '../../queue/providers/from-config.js';
import { addQueueFlags, connectionSettings, type QueueFlags } from './queue-flags.js';

interface EnqueueFlags extends QueueFlags {
  context: string;
  at?: string;
  dedupKey?: string;
  priority?: string;
  maxAttempts?: string;
  json?: boolean;
}

function parseContext(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ConfigError(`--context is not valid JSON: ${(cause as Error).message}. Quote it, e.g. --context '{"repos":["/a"]}'.`, {
      cause,
      details: { field: 'context' },
    });
  }
}

function parseInteger(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new ConfigError(`--${field} must be a whole number, got '${text}'.`, { details: { field } });
  return n;
}

export function registerEnqueue(program: Command): void {
  addQueueFlags(
    program
      .command('enqueue <key>')
      .description("Enqueue a job for the handler <key> (the seed's enqueue_workflow).")
      .option('--context <json>', 'the handler input, as JSON', '{}')
      .option('--at <iso>', "run at this instant (the seed's metadata.scheduleTime), e.g. 2026-02-07T02:00:00Z")
      .option('--dedup-key <key>', 'a second job with this key while the first is live returns the first')
      .option('--priority <n>', 'higher runs first, -100..100')
      .option('--max-attempts <n>', 'attempts before the job is dead-lettered (default 3)')
      .option('--json', 'print the result as JSON', false),
  ).action(async (key: string, flags: EnqueueFlags) => {
    const context = parseContext(flags.context);
    const priority = parseInteger(flags.priority, 'priority');
    const maxAttempts = parseInteger(flags.maxAttempts, 'max-attempts');
    const connection = await openQueueConnection(connectionSettings(flags));
    // The client's dispatcher would keep this short-lived process alive; workers hand held jobs over.
    const client = createQueueClient({ providers: connection.provider, store: connection.store, dispatchHeldJobs: false });
    try {
      const result = await client.enqueueWorkflow(key, {
        queueProvider: connection.provider.name,
        queue: flags.queue,
        context,
        ...(flags.at === undefined ? {} : { metadata: { scheduleTime: flags.at } }),
        ...(flags.dedupKey === undefined ? {} : { dedupKey: flags.dedupKey }),
        ...(priority === undefined ? {} : { priority }),
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
      });
      if (flags.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        process.stdout.write(
          `${result.deduplicated ? 'already queued' : 'queued'} ${result.workflow} as ${result.runId} on ${result.queueProvider}:${flags.queue}, due ${result.scheduledFor}\n`,
        );
      }
    } finally {
      await client.close();
      await connection.close();
    }
  });
}
