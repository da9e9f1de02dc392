import type { Clock } from '../../../core/clock.js';
import type { Job, ProviderName, QueueProvider } from '../../contract.js';
import type { BrokerLedger, DedupClaim } from '../../ledger/index.js';

/**
 * Dead letters of a pure broker (NATS, RabbitMQ, Kafka, Cloud Tasks) live in the broker ledger in the
 * Kairos store, because a broker cannot be browsed. Listing, reading, replaying and purging them is
 * the same for every broker except how a replayed job is sent, so it lives here once.
 */
export interface LedgerDeadLettersOptions {
  provider: ProviderName;
  ledger: BrokerLedger;
  clock: Clock;
  /** Throws (or rejects) when the provider is closed or not connected; awaited before every operation. */
  live: () => unknown;
  /** Makes the queue exist on the broker before a replay. */
  ensureQueue: (queue: string) => Promise<void>;
  /** The ledger claims a live job holds (its id and/or dedup key), re-taken on replay. Default: none. */
  claimsOf?: (job: Job) => DedupClaim[];
  /**
   * Sends replayed jobs (attempt reset, due now). Exactly one of the two: `sendAll` sends a batch
   * (on failure every letter is put back), `sendOne` one job (on failure it and the rest are put back).
   */
  sendAll?: (jobs: Job[]) => Promise<void>;
  sendOne?: (job: Job) => Promise<void>;
}

export type LedgerDeadLetters = Pick<QueueProvider, 'listDeadLetters' | 'getDeadLetter' | 'replayDeadLetters' | 'purgeDeadLetters'>;

export function createLedgerDeadLetters(options: LedgerDeadLettersOptions): LedgerDeadLetters {
  const { provider, ledger, clock, live, claimsOf } = options;
  return {
    async listDeadLetters(queue, page) {
      await live();
      return ledger.listDeadLetters(provider, queue, page);
    },

    async getDeadLetter(queue, jobId) {
      await live();
      return ledger.getDeadLetter(provider, queue, jobId);
    },

    async replayDeadLetters(queue, ids) {
      await live();
      await options.ensureQueue(queue);
      const letters = await ledger.takeDeadLetters(provider, queue, ids);
      if (letters.length === 0) return 0;
      const replayAtMs = clock.now();
      // Attempts reset; the last error stays with the job, as the database providers keep it.
      const jobs = letters.map((letter): Job => ({ ...letter.job, attempt: 0, runAtMs: replayAtMs }));
      let sent = 0;
      try {
        // One ledger call for the batch: the keys were free while the jobs lay dead, a replay just takes them.
        if (claimsOf !== undefined) await ledger.claimDedupKeys(provider, queue, jobs.flatMap(claimsOf));
        if (options.sendAll !== undefined) {
          await options.sendAll(jobs);
          sent = jobs.length;
        } else if (options.sendOne !== undefined) {
          for (const job of jobs) {
            await options.sendOne(job);
            sent += 1;
          }
        }
      } catch (error) {
        // What was not sent goes back to the dead letters (a batch is all-or-nothing as far as we know).
        for (const letter of options.sendAll !== undefined ? letters : letters.slice(sent)) await ledger.putDeadLetter(provider, letter);
        throw error;
      }
      return letters.length;
    },

    async purgeDeadLetters(queue, ids) {
      await live();
      return (await ledger.takeDeadLetters(provider, queue, ids)).length;
    },
  };
}
