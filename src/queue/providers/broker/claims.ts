import type { EnqueueResult, Job } from '../../contract.js';
import type { BrokerLedger, DedupClaim } from '../../ledger/index.js';

/**
 * Ledger claims for a whole enqueue batch: one `claimDedupKeys` call (one store transaction or one
 * statement) per queue in the batch, instead of one awaited store write per job — that loop was three
 * quarters of RabbitMQ's enqueue time. The outcome is the one the job-by-job loop gave.
 */

/** Rounds of re-claiming after a refused job freed keys another job of the batch was refused on. */
const MAX_CLAIM_ROUNDS = 8;

export interface ClaimedBatch {
  /** One result per input job, in input order. */
  results: EnqueueResult[];
  /** The jobs that took every claim and must now be sent, in input order. */
  accepted: Job[];
}

/**
 * Claims every job's keys (`claimsOf`: the id key, and the dedup key if any). A job is refused when any of
 * its keys is held by another live job (or by its own id: a re-sent job); a refused job gives back the
 * claims it did take. A job refused only because an earlier job of the same batch held the key, where
 * that job was itself refused, is claimed again — exactly as if the jobs had been claimed one by one.
 */
export async function claimBatch(
  ledger: BrokerLedger,
  provider: string,
  jobs: readonly Job[],
  claimsOf: (job: Job) => DedupClaim[],
): Promise<ClaimedBatch> {
  const results = new Array<EnqueueResult | undefined>(jobs.length);
  const acceptedIndexes: number[] = [];
  const seenIds = new Set<string>();
  let pending: number[] = [];
  jobs.forEach((job, index) => {
    if (seenIds.has(job.id)) results[index] = { id: job.id, deduplicated: true };
    else {
      seenIds.add(job.id);
      pending.push(index);
    }
  });
  for (let round = 0; pending.length > 0; round += 1) {
    const holders = await claimByQueue(ledger, provider, pending.map((i) => jobs[i]!), claimsOf);
    const refused = new Map<string, number>();
    pending.forEach((index, k) => {
      const holder = holders[k] ?? null;
      if (holder === null) {
        results[index] = { id: jobs[index]!.id, deduplicated: false };
        acceptedIndexes.push(index);
      } else {
        results[index] = { id: holder, deduplicated: true };
        refused.set(jobs[index]!.id, index);
      }
    });
    // Undo the claims refused jobs did get, so a refused job holds nothing.
    await releaseJobClaims(ledger, provider, [...refused.values()].map((i) => jobs[i]!), claimsOf);
    if (round + 1 >= MAX_CLAIM_ROUNDS) break;
    pending = [...refused.values()].filter((index) => {
      const holder = results[index]!.id;
      return holder !== jobs[index]!.id && refused.has(holder);
    });
  }
  acceptedIndexes.sort((a, b) => a - b);
  return { results: results.map((r, i) => r ?? { id: jobs[i]!.id, deduplicated: true }), accepted: acceptedIndexes.map((i) => jobs[i]!) };
}

/** Releases the claims of `jobs`, one ledger call per queue. */
export async function releaseJobClaims(
  ledger: BrokerLedger,
  provider: string,
  jobs: readonly Job[],
  claimsOf: (job: Job) => DedupClaim[],
): Promise<void> {
  for (const [queue, group] of groupByQueue(jobs)) {
    await ledger.releaseDedupKeys(provider, queue, group.flatMap((g) => claimsOf(g.job)));
  }
}

/** For each job, the holder of its first held key (null: it took them all). */
async function claimByQueue(
  ledger: BrokerLedger,
  provider: string,
  jobs: readonly Job[],
  claimsOf: (job: Job) => DedupClaim[],
): Promise<(string | null)[]> {
  const holders = new Array<string | null>(jobs.length).fill(null);
  for (const [queue, group] of groupByQueue(jobs)) {
    const claims: DedupClaim[] = [];
    const owner: number[] = [];
    for (const { job, index } of group) {
      for (const claim of claimsOf(job)) {
        claims.push(claim);
        owner.push(index);
      }
    }
    const answer = await ledger.claimDedupKeys(provider, queue, claims);
    answer.forEach((holder, k) => {
      const index = owner[k]!;
      if (holder !== null && holders[index] === null) holders[index] = holder;
    });
  }
  return holders;
}

function groupByQueue(jobs: readonly Job[]): Map<string, { job: Job; index: number }[]> {
  const groups = new Map<string, { job: Job; index: number }[]>();
  jobs.forEach((job, index) => {
    const group = groups.get(job.queue);
    if (group === undefined) groups.set(job.queue, [{ job, index }]);
    else group.push({ job, index });
  });
  return groups;
}

/**
 * Releases claims on ack, coalescing the releases of one event-loop turn into one ledger call per
 * queue (one store transaction instead of one per job; the acks of concurrent handlers arrive together).
 */
export function createClaimReleaser(
  ledger: BrokerLedger,
  provider: string,
  claimsOf: (job: Job) => DedupClaim[],
): (job: Job) => Promise<void> {
  let pending: { job: Job; resolve: () => void; reject: (error: Error) => void }[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batch = pending;
    pending = [];
    releaseJobClaims(ledger, provider, batch.map((p) => p.job), claimsOf).then(
      () => batch.forEach((p) => p.resolve()),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        batch.forEach((p) => p.reject(failure));
      },
    );
  };
  return (job) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ job, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
