import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { InvalidFlowError, InvalidParametersError } from '../../src/errors.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { evaluateTriggerRule } from '../../src/engine/flow/trigger-rules.js';

const noop = (): null => null;

describe('flow definition', () => {
  it('names the cycle path', () => {
    assert.throws(
      () => flow('loop', { tasks: { a: task({ needs: ['c'], run: noop }), b: task({ needs: ['a'], run: noop }), c: task({ needs: ['b'], run: noop }), d: task({ run: noop }) } }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidFlowError);
        assert.match(error.message, /cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
        assert.equal((error.details.cycle as string[]).length, 4);
        return true;
      },
    );
  });

  it('rejects an unknown dependency, naming task and dependency', () => {
    assert.throws(() => flow('f', { tasks: { a: task({ needs: ['nope'], run: noop }) } }), (error: unknown) => {
      assert.ok(error instanceof InvalidFlowError);
      assert.match(error.message, /task 'a' needs 'nope'/);
      return true;
    });
  });

  it('rejects a duplicate task name in the array form', () => {
    assert.throws(() => flow('f', { tasks: [task({ name: 'a', run: noop }), task({ name: 'a', run: noop })] }), /duplicate task name 'a'/);
  });

  it('rejects a map over a task that is not needed, a bad trigger rule and a bad retry policy', () => {
    assert.throws(() => flow('f', { tasks: { a: task({ run: noop }), b: task({ map: 'a', run: noop }) } }), InvalidFlowError);
    assert.throws(() => flow('f', { tasks: { a: task({ triggerRule: 'sometimes' as never, run: noop }) } }), /not a trigger rule/);
    assert.throws(() => flow('f', { tasks: { a: task({ retries: { count: -1 }, run: noop }) } }), /count must be a whole number/);
    assert.throws(() => flow('f', { tasks: {} }), /has no tasks/);
  });

  it('exposes the graph before any run', () => {
    const f = flow('etl', { tasks: { load: task({ needs: ['transform'], run: noop }), extract: task({ run: noop }), transform: task({ needs: ['extract'], queue: 'gpu', run: noop }) } });
    const graph = f.graph();
    assert.deepEqual(graph.nodes.map((node) => node.id), ['extract', 'transform', 'load']);
    assert.deepEqual(graph.edges, [
      { from: 'extract', to: 'transform' },
      { from: 'transform', to: 'load' },
    ]);
    assert.equal(graph.nodes[1]?.queue, 'gpu');
  });

  it('validates parameters with the zod schema and reports the issues', () => {
    const f = flow('p', { params: z.object({ days: z.number().int().positive() }), tasks: { a: task({ run: noop }) } });
    assert.deepEqual(f.parseParams({ days: 3 }), { days: 3 });
    assert.throws(() => f.parseParams({ days: -1 }), (error: unknown) => {
      assert.ok(error instanceof InvalidParametersError);
      assert.equal((error.details.issues as Array<{ path: string }>)[0]?.path, 'days');
      return true;
    });
  });
});

describe('trigger rules (Airflow semantics)', () => {
  const S = 'success' as const;
  const F = 'failed' as const;
  const U = 'upstream_failed' as const;
  const K = 'skipped' as const;
  const cases: Array<[Parameters<typeof evaluateTriggerRule>[0], Parameters<typeof evaluateTriggerRule>[1], string]> = [
    ['all_success', [S, S], 'run'],
    ['all_success', [S, F], 'upstream_failed'],
    ['all_success', [S, U], 'upstream_failed'],
    ['all_success', [S, K], 'skip'],
    ['all_success', [S, undefined], 'wait'],
    ['all_failed', [F, U], 'run'],
    ['all_failed', [F, S], 'skip'],
    ['all_done', [F, K], 'run'],
    ['all_done', [F, undefined], 'wait'],
    ['one_success', [S, undefined], 'run'],
    ['one_success', [F, K], 'upstream_failed'],
    ['one_success', [K, K], 'skip'],
    ['one_failed', [F, undefined], 'run'],
    ['one_failed', [S, S], 'skip'],
    ['none_failed', [S, K], 'run'],
    ['none_failed', [S, F], 'upstream_failed'],
    ['none_failed_min_one_success', [K, K], 'skip'],
    ['none_failed_min_one_success', [S, K], 'run'],
    ['always', [undefined], 'run'],
  ];
  for (const [rule, upstream, expected] of cases) {
    it(`${rule} with [${upstream.map(String).join(', ')}] → ${expected}`, () => assert.equal(evaluateTriggerRule(rule, upstream), expected));
  }
});
