import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { DeadLetter } from '../../queue/contract.js';
import { openQueueConnection } from '../../queue/providers/from-config.js';
import { addQueueFlags, connectionSettings, type QueueFlags } from './queue-flags.js';

interface DlqFlags extends QueueFlags {
  id?: string[];
  limit: string;
  json?: boolean;
}

const ACTIONS = ['ls', 'show', 'replay', 'purge'] as const;
type Action = (typeof ACTIONS)[number];

function summary(letter: DeadLetter): string {
  const at = new Date(letter.deadAtMs).toISOString();
  return `${letter.job.id}  ${letter.job.name}  attempts ${letter.job.attempt}/${letter.job.maxAttempts}  dead ${at}  ${letter.error.split('\n')[0] ?? ''}`;
}

export function registerDlq(program: Command): void {
  addQueueFlags(
    program
      .command('dlq <action>')
      .description('Dead letters of a queue: ls | show --id ID | replay [--id ID…] | purge [--id ID…]')
      .option('--id <id...>', 'job id(s); replay and purge act on all dead letters without it')
      .option('--limit <n>', 'most dead letters to list', '100')
      .option('--json', 'print JSON', false),
  ).action(async (action: string, flags: DlqFlags) => {
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new ConfigError(`Unknown dlq action '${action}': use ${ACTIONS.join(', ')}.`, { details: { field: 'action', value: action } });
    }
    const which = action as Action;
    if (which === 'show' && (flags.id === undefined || flags.id.length !== 1)) {
      throw new ConfigError('dlq show needs exactly one --id.', { details: { field: 'id' } });
    }
    const connection = await openQueueConnection(connectionSettings(flags));
    const { provider } = connection;
    const print = (text: string, json: unknown) => process.stdout.write(flags.json === true ? `${JSON.stringify(json)}\n` : `${text}\n`);
    try {
      if (which === 'ls') {
        const letters = await provider.listDeadLetters(flags.queue, { limit: Number(flags.limit) });
        print(letters.length === 0 ? `no dead letters in ${flags.queue}` : letters.map(summary).join('\n'), letters);
      } else if (which === 'show') {
        const id = flags.id![0]!;
        const letter = await provider.getDeadLetter(flags.queue, id);
        if (letter === null) {
          process.stderr.write(`kairos: no dead letter ${id} in queue ${flags.queue}\n`);
          process.exitCode = 1;
          return;
        }
        print(`${summary(letter)}\npayload: ${JSON.stringify(letter.job.payload)}\nerror: ${letter.error}`, letter);
      } else if (which === 'replay') {
        const count = await provider.replayDeadLetters(flags.queue, flags.id);
        print(`replayed ${count} dead letter(s) in ${flags.queue}`, { replayed: count });
      } else {
        const count = await provider.purgeDeadLetters(flags.queue, flags.id);
        print(`purged ${count} dead letter(s) in ${flags.queue}`, { purged: count });
      }
    } finally {
      await connection.close();
    }
  });
}
