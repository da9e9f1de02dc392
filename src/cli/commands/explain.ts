import type { Command } from 'commander';
import { select, type TaskProfile } from '../../core/decision-matrix.js';

interface ExplainOptions {
  frequency: string;
  visibility?: TaskProfile['visibility'];
  complexity?: TaskProfile['complexity'];
  durability?: TaskProfile['durability'];
  infrastructure?: TaskProfile['infrastructure'];
  eventTriggered?: boolean;
  json?: boolean;
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('Choose the lane for a task profile and say why (the decision matrix).')
    .requiredOption('--frequency <period>', "how often it runs: '30s', '1h', 'daily', '90d', 'adhoc'")
    .option('--visibility <internal|user>', 'who looks at it', 'internal')
    .option('--complexity <simple|dag|complex>', 'one function, a DAG, or a complex workflow', 'simple')
    .option('--durability <ephemeral|persistent>', 'must it survive a restart?', 'ephemeral')
    .option('--infrastructure <local|distributed>', 'does it run on other machines?', 'local')
    .option('--event-triggered', 'started by an event rather than the clock', false)
    .option('--json', 'print {"lane": …, "reasons": […]}', false)
    .action((options: ExplainOptions) => {
      const decision = select({
        frequency: options.frequency,
        visibility: options.visibility,
        complexity: options.complexity,
        durability: options.durability,
        infrastructure: options.infrastructure,
        eventTriggered: options.eventTriggered,
      });
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(decision)}\n`);
        return;
      }
      process.stdout.write(`lane: ${decision.lane}\n`);
      decision.reasons.forEach((reason, i) => process.stdout.write(`  ${i + 1}. ${reason}\n`));
    });
}
