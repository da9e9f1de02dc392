#!/usr/bin/env node
// Runs the whole test line: type-check, lint, then every test file under test/ with Node's test runner.
// `--no-check` skips type-check and lint; any other argument narrows the run to files whose path contains it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const check = !args.includes('--no-check');
const filters = args.filter((a) => !a.startsWith('--'));

function run(cmd, cmdArgs, env = process.env) {
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env });
  return result.status ?? 1;
}

if (check) {
  console.log('» type-check');
  if (run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) process.exit(1);
  console.log('» lint');
  if (run('npx', ['eslint', '.', '--max-warnings=0']) !== 0) process.exit(1);
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : entry.name.endsWith('.test.ts') ? [path] : [];
  });
}
const files = walk('test')
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Service tests record what they skipped here, so the run can name it at the end.
const skipDir = mkdtempSync(join(tmpdir(), 'kairos-skips-'));
console.log(`» ${files.length} test files`);
const status = run(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=300000', ...files],
  { ...process.env, KAIROS_SKIP_LOG_DIR: skipDir },
);

const skipLog = join(skipDir, 'skipped.log');
if (existsSync(skipLog)) {
  const lines = [...new Set(readFileSync(skipLog, 'utf8').split('\n').filter(Boolean))];
  console.log('\nSkipped, by name (.ci/run starts the servers, installs the tools and sets KAIROS_CHAOS=1, so none of these skip there):');
  for (const line of lines) console.log(`  - ${line}`);
}
process.exit(status);
