import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { select, type TaskProfile } from '../../src/core/decision-matrix.js';
import { InvalidProfileError } from '../../src/errors.js';

// Every row of the seed's quick-reference table, plus event-triggered long-running work.
const TABLE: Array<[string, TaskProfile, string]> = [
  ['health checks', { frequency: '30s', visibility: 'internal', complexity: 'simple' }, 'local'],
  ['metrics collection', { frequency: '1m', visibility: 'internal', complexity: 'simple' }, 'local'],
  ['cache cleanup', { frequency: '1h', visibility: 'internal', complexity: 'simple' }, 'local'],
  ['DLQ processing', { frequency: '5m', visibility: 'internal', complexity: 'simple' }, 'local'],
  ['secret rotation', { frequency: '90d', visibility: 'internal', durability: 'persistent', infrastructure: 'distributed' }, 'queue'],
  ['database backup', { frequency: 'daily', visibility: 'internal', durability: 'persistent', infrastructure: 'distributed' }, 'queue'],
  ['log aggregation', { frequency: 'hourly', visibility: 'internal', durability: 'persistent', infrastructure: 'distributed' }, 'queue'],
  ['code sweep', { frequency: 'daily', visibility: 'user', complexity: 'dag' }, 'flow'],
  ['dependency audit', { frequency: 'weekly', visibility: 'user', complexity: 'dag' }, 'flow'],
  ['ML pipeline', { frequency: 'adhoc', visibility: 'user', complexity: 'complex' }, 'flow'],
  ['ETL workflow', { frequency: 'scheduled', visibility: 'user', complexity: 'complex' }, 'flow'],
  ['drift → retrain → validate → promote', { frequency: 'adhoc', visibility: 'user', complexity: 'complex', durability: 'persistent', eventTriggered: true }, 'workflow'],
  ['internal weekly multi-step report', { frequency: 'weekly', complexity: 'dag' }, 'flow'],
  ['internal daily simple task', { frequency: 'daily' }, 'local'],
];

describe('decision matrix', () => {
  for (const [name, profile, lane] of TABLE) {
    it(`${name} → ${lane}`, () => {
      const decision = select(profile);
      assert.equal(decision.lane, lane);
      assert.ok(decision.reasons.length > 0);
    });
  }

  it('asks the questions in the seed order and records each answer', () => {
    const { reasons } = select({ frequency: '30s' });
    assert.match(reasons[0]!, /internal/);
    assert.match(reasons[1]!, /in-process/);
    assert.match(reasons[2]!, /30s/);
  });

  it('rejects a bad profile with a typed error naming the field', () => {
    assert.throws(() => select({ frequency: 'sometimes' }), (e: unknown) => e instanceof InvalidProfileError && e.details.field === 'frequency');
    assert.throws(() => select({ frequency: '1m', visibility: 'public' as never }), /visibility: 'public' is not one of internal \| user/);
  });

  it('kairos explain --json prints the decision', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/support/cli.ts', 'explain', '--frequency', '90d', '--durability', 'persistent', '--infrastructure', 'distributed', '--json'], { encoding: 'utf8' });
    const parsed = JSON.parse(out);
    assert.equal(parsed.lane, 'queue');
    assert.ok(Array.isArray(parsed.reasons));
  });
});
