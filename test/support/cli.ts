// Runs the CLI from source, for tests: `node --import tsx test/support/cli.ts <args>`.
import { main } from '../../src/cli/main.js';

await main(process.argv);
