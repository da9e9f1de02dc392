import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidRunStateError, KairosError, TimeoutError } from '../../src/errors.js';
import { recordError } from '../../src/engine/journal/recordable.js';
import { reviveError } from '../../src/engine/journal/revive-error.js';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import { workflow } from '../../src/engine/workflow/define.js';
import type { Store } from '../../src/store/store.js';
import { freshStore } from './support.js';

class PaymentDeclined extends Error {
  readonly code = 'CARD_DECLINED';
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclined';
  }
}

describe('replayed errors', () => {
  it('come back as their KairosError subclass with code, details, message and stack', () => {
    const original = new InvalidRunStateError('run r1 is Completed', { details: { runId: 'r1' } });
    const revived = reviveError(JSON.parse(JSON.stringify(recordError(original))) as ReturnType<typeof recordError>);
    assert.ok(revived instanceof InvalidRunStateError, 'instanceof the original subclass');
    assert.ok(revived instanceof KairosError);
    assert.equal((revived).code, original.code);
    assert.deepEqual((revived).details, { runId: 'r1' });
    assert.equal(revived.name, 'InvalidRunStateError');
    assert.equal(revived.message, original.message);
    assert.equal(revived.stack, original.stack);
    assert.ok(reviveError(recordError(new TimeoutError('slow'))) instanceof TimeoutError);
  });

  it('keep the name and string code of errors that are not Kairos errors', () => {
    const revived = reviveError(recordError(new PaymentDeclined('card 4242 declined')));
    assert.equal(revived.name, 'PaymentDeclined');
    assert.equal((revived as Error & { code?: string }).code, 'CARD_DECLINED');
    assert.equal(revived.message, 'card 4242 declined');
    assert.ok(!(revived instanceof KairosError));
  });

  describe('through a workflow that is replayed after a durable sleep', () => {
    let store: Store;
    let engine: Engine;
    before(async () => {
      store = await freshStore('sqlite');
      engine = createEngine({ store, pollIntervalMs: 20, leaseMs: 2_000 });
      await engine.start();
    });
    after(async () => {
      await engine.stop({ deadlineMs: 1_000 });
      await store.close();
    });

    it('a caught step error is the same class before and after replay', async () => {
      const seen: string[] = [];
      engine.register(
        workflow('replayed-errors', async (ctx) => {
          const outcomes: string[] = [];
          for (const fail of [() => { throw new InvalidRunStateError('nope', { details: { why: 'test' } }); }, () => { throw new PaymentDeclined('declined'); }]) {
            try {
              await ctx.step('fails', fail);
            } catch (error) {
              const e = error as Error & { code?: string };
              outcomes.push(`${e.name}:${e.code ?? '-'}:${String(error instanceof InvalidRunStateError)}`);
            }
          }
          seen.push(outcomes.join('|'));
          await ctx.sleep(30); // parks the run; the second execution replays both failed steps
          return outcomes;
        }),
      );
      const run = await engine.waitForRun((await engine.run('replayed-errors')).runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.equal(seen.length, 2, 'executed once, replayed once');
      assert.equal(seen[0], seen[1]);
      assert.equal(seen[1], 'InvalidRunStateError:KAIROS_INVALID_RUN_STATE:true|PaymentDeclined:CARD_DECLINED:false');
    });
  });
});
