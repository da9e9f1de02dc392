/**
 * Which offset a Kafka consumer may commit, when jobs are acked out of order.
 *
 * Kafka stores one committed offset per partition: "everything before this is done". Workers ack
 * jobs in any order, so the provider may only commit up to the first job still unacked — committing
 * past it would lose that job if the process died. This tracker keeps, per partition, the offsets
 * handed out in arrival order (ascending within a partition, as Kafka delivers them) and answers,
 * after each ack, whether the contiguous acked prefix grew and what the next commit offset is
 * (Kafka's convention: the offset of the next message to read).
 */

interface PartitionState {
  /** Offsets delivered and not yet committed, ascending; `acked` marks those done. Read from `head`. */
  offsets: bigint[];
  acked: boolean[];
  head: number;
  /** The highest offset ever tracked + 1: anything below it was seen already (a re-fetch after a rebalance). */
  nextExpected: bigint | null;
}

export class OffsetTracker {
  private readonly partitions = new Map<number, PartitionState>();

  /** Records a delivered offset. Returns false when it was already seen on this partition (skip it). */
  track(partition: number, offset: bigint): boolean {
    let state = this.partitions.get(partition);
    if (state === undefined) {
      state = { offsets: [], acked: [], head: 0, nextExpected: null };
      this.partitions.set(partition, state);
    }
    if (state.nextExpected !== null && offset < state.nextExpected) return false;
    state.offsets.push(offset);
    state.acked.push(false);
    state.nextExpected = offset + 1n;
    return true;
  }

  /**
   * Marks an offset done. Returns the offset to commit when the contiguous done prefix advanced
   * (the first offset still pending, or the last done + 1 when none is), else null — including for
   * an offset this tracker does not hold (already committed, or its partition was revoked).
   */
  ack(partition: number, offset: bigint): bigint | null {
    const state = this.partitions.get(partition);
    if (state === undefined) return null;
    const index = this.find(state, offset);
    if (index < 0 || state.acked[index] === true) return null;
    state.acked[index] = true;
    if (index !== state.head) return null;
    let last = offset;
    while (state.head < state.offsets.length && state.acked[state.head] === true) {
      last = state.offsets[state.head]!;
      state.head += 1;
    }
    this.compact(state);
    return state.head < state.offsets.length ? state.offsets[state.head]! : last + 1n;
  }

  /** Whether the offset is tracked and not yet acked (its lease may still be settled). */
  isPending(partition: number, offset: bigint): boolean {
    const state = this.partitions.get(partition);
    if (state === undefined) return false;
    const index = this.find(state, offset);
    return index >= 0 && state.acked[index] === false;
  }

  /** Offsets acked but held back behind an earlier pending one, over all partitions. */
  ackedUncommitted(): number {
    let n = 0;
    for (const state of this.partitions.values()) for (let i = state.head; i < state.acked.length; i += 1) if (state.acked[i] === true) n += 1;
    return n;
  }

  /** Forgets partitions no longer assigned to this consumer (their jobs go to the new owner). */
  retainOnly(partitions: ReadonlySet<number>): number[] {
    const dropped: number[] = [];
    for (const partition of [...this.partitions.keys()]) {
      if (!partitions.has(partition)) {
        this.partitions.delete(partition);
        dropped.push(partition);
      }
    }
    return dropped;
  }

  clear(): void {
    this.partitions.clear();
  }

  private find(state: PartitionState, offset: bigint): number {
    let lo = state.head;
    let hi = state.offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const value = state.offsets[mid]!;
      if (value === offset) return mid;
      if (value < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Drops the committed prefix once it is most of the arrays, so memory follows what is pending. */
  private compact(state: PartitionState): void {
    if (state.head > 1_024 && state.head * 2 > state.offsets.length) {
      state.offsets = state.offsets.slice(state.head);
      state.acked = state.acked.slice(state.head);
      state.head = 0;
    }
  }
}
