import { Command, CommanderError } from 'commander';
import { KairosError } from '../errors.js';
import { registerExplain } from './commands/explain.js';
import { registerWorker } from './commands/worker.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerDlq } from './commands/dlq.js';
import { registerDev } from './commands/dev.js';
import { registerDeployments } from './commands/deployments.js';
import { registerEmit } from './commands/emit.js';
import { registerBackfill } from './commands/backfill.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerServer } from './commands/server.js';

/** Builds the `kairos` command tree. Each command lives in its own module under `commands/`. */
export function buildProgram(): Command {
  const program = new Command('kairos')
    .description('One scheduler and orchestrator for AI and data pipelines.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerExplain(program);
  registerWorker(program);
  registerEnqueue(program);
  registerDlq(program);
  registerDev(program);
  registerDeployments(program);
  registerEmit(program);
  registerBackfill(program);
  registerRun(program);
  registerRuns(program);
  registerServer(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof KairosError) {
      process.stderr.write(`kairos: ${error.message} [${error.code}]\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}
