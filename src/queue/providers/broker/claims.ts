import type { EnqueueResult, Job } from '../../contract.js';
import type { BrokerLedger, DedupClaim } from '../../ledger/index.js';
import { groupBy } from './jobs.js';

/**
 * Ledger claims for a whole enqueue batch: one `claimDedupKeys` call (one store transaction or one
 * statement) per queue in the batch, instead of one awaited store write per job — that loop was three
 * quarters of RabbitMQ's enqueue time. The outcome is the one the job-by-job loop gave.
 */

/**
 * The ledger claims of a job on a broker with no job table: its dedup key, and its id when the caller
 * chose it (enqueueing the same id twice makes one job). An id Kairos generated is a UUIDv7, unique by
 * construction, so it is not claimed (`idClaimed` false) — a plain job then costs no store write on
 * enqueue or ack.
 */
export function jobClaims(job: Job, idClaimed = true): DedupClaim[] {
  const claims: DedupClaim[] = idClaimed ? [{ key: `id:${job.id}`, jobId: job.id }] : [];
  if (job.dedupKey !== null) claims.push({ key: `key:${job.dedupKey}`, jobId: job.id });
  return claims;
}

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
    const { holders, taken } = await claimByQueue(ledger, provider, pending.map((i) => jobs[i]!), claimsOf);
    const givenBack: { queue: string; claims: DedupClaim[] }[] = [];
    const refused = new Map<string, number>();
    pending.forEach((index, k) => {
      const holder = holders[k] ?? null;
      if (holder === null) {
        results[index] = { id: jobs[index]!.id, deduplicated: false };
        acceptedIndexes.push(index);
      } else {
        results[index] = { id: holder, deduplicated: true };
        refused.set(jobs[index]!.id, index);
        givenBack.push({ queue: jobs[index]!.queue, claims: taken[k]! });
      }
    });
    // Undo the claims refused jobs did take, so a refused job holds nothing. Only those it took: a
    // re-sent job's id claim is the live job's own (same key, same job id) and must stay.
    await releaseByQueue(ledger, provider, givenBack);
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
  await releaseByQueue(ledger, provider, jobs.map((job) => ({ queue: job.queue, claims: claimsOf(job) })));
}

/** Releases claims, one ledger call per queue that has any. */
async function releaseByQueue(
  ledger: BrokerLedger,
  provider: string,
  items: readonly { queue: string; claims: readonly DedupClaim[] }[],
): Promise<void> {
  for (const [queue, group] of groupBy(items, (item) => item.queue)) {
    const claims = group.flatMap((g) => g.item.claims);
    if (claims.length > 0) await ledger.releaseDedupKeys(provider, queue, claims);
  }
}

/** For each job, the holder of its first held key (null: it took them all), and the claims it took. */
async function claimByQueue(
  ledger: BrokerLedger,
  provider: string,
  jobs: readonly Job[],
  claimsOf: (job: Job) => DedupClaim[],
): Promise<{ holders: (string | null)[]; taken: DedupClaim[][] }> {
  const holders = new Array<string | null>(jobs.length).fill(null);
  const taken = jobs.map((): DedupClaim[] => []);
  for (const [queue, group] of groupBy(jobs, (job) => job.queue)) {
    const claims: DedupClaim[] = [];
    const owner: number[] = [];
    for (const { item: job, index } of group) {
      for (const claim of claimsOf(job)) {
        claims.push(claim);
        owner.push(index);
      }
    }
    if (claims.length === 0) continue;
    const answer = await ledger.claimDedupKeys(provider, queue, claims);
    answer.forEach((holder, k) => {
      const index = owner[k]!;
      if (holder === null) taken[index]!.push(claims[k]!);
      else if (holders[index] === null) holders[index] = holder;
    });
  }
  return { holders, taken };
}

/**
 * Releases claims on ack, coalescing the releases of one event-loop turn into one ledger call per
 * queue (one store transaction instead of one per job; the acks of concurrent handlers arrive together).
 */
export function createClaimReleaser(ledger: BrokerLedger, provider: string): (queue: string, claims: readonly DedupClaim[]) => Promise<void> {
  let pending: { queue: string; claims: readonly DedupClaim[]; resolve: () => void; reject: (error: Error) => void }[] = [];
  let scheduled = false;
  const flush = async (): Promise<void> => {
    scheduled = false;
    const batch = pending;
    pending = [];
    try {
      await releaseByQueue(ledger, provider, batch);
      batch.forEach((p) => p.resolve());
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      batch.forEach((p) => p.reject(failure));
    }
  };
  return (queue, claims) => {
    // A job that holds no claim (a generated id, no dedup key) has nothing to release: no store write.
    if (claims.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      pending.push({ queue, claims, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
  };
}
