import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCrashTest } from './queue-crash.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-chaos-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('queue chaos: kill -9 workers on the sqlite provider', () => {
  it('completes all 10,000 jobs at least once across 5 kills, duplicates bounded by in-flight jobs', async () => {
    const report = await runCrashTest({ provider: 'sqlite', providerOptions: { dbPath: join(dir, 'kairos.db') }, workDir: dir, jobs: 10_000, kills: 5 });
    console.log(`sqlite crash test: ${JSON.stringify(report)}`);
    assert.equal(report.completedUnique, 10_000);
    assert.equal(report.children, 6);
  });
});
