#!/usr/bin/env node
// The compiled CLI (built by `npm install` through the `prepare` script, or `npm run build`).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((error) => {
  process.stderr.write(`kairos: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
