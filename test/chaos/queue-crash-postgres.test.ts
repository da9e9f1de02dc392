import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { SERVICES, serviceSkip } from '../support/services.js';
import { runCrashTest } from './queue-crash.js';

const skip = await serviceSkip('postgres', 'queue chaos: kill -9 on postgres');
const dir = mkdtempSync(join(tmpdir(), 'kairos-chaos-pg-'));
const schema = `kchaos_${randomUUID().slice(0, 8)}`;
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (skip !== false) return;
  const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describe('queue chaos: kill -9 workers on the postgres provider', { skip }, () => {
  it('completes all 10,000 jobs at least once across 5 kills, duplicates bounded by in-flight jobs', async () => {
    const report = await runCrashTest({
      provider: 'postgres',
      providerOptions: { postgresUrl: SERVICES.postgres.url, schema },
      workDir: dir,
      jobs: 10_000,
      kills: 5,
    });
    console.log(`postgres crash test: ${JSON.stringify(report)}`);
    assert.equal(report.completedUnique, 10_000);
  });
});
