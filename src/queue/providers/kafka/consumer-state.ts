import type { Consumer, KafkaMessage } from 'kafkajs';
import type { OffsetTracker } from './offsets.js';

/** The per-queue state of the Kafka provider's group consumer, and the small operations on it. */

export interface Delivery {
  partition: number;
  offset: bigint;
  message: KafkaMessage;
  /** Deliveries of this record in this process (a lease that ran out hands it out again). */
  deliveries: number;
}

export interface QueueConsumer {
  consumer: Consumer;
  groupId: string;
  topic: string;
  tracker: OffsetTracker;
  buffer: Delivery[];
  paused: boolean;
  waiters: Set<() => void>;
  /** Commit offsets waiting for the next commitOffsets call, by partition. */
  dirty: Map<number, bigint>;
  committing: Promise<void> | null;
  nextCommit: Promise<void> | null;
  dead: boolean;
}

/** Wakes every fetch waiting on this queue's buffer. */
export function wake(state: QueueConsumer): void {
  for (const waiter of [...state.waiters]) waiter();
}

/** Sends the pending commit offsets: one commitOffsets in flight per queue, later acks share the next. */
export function commit(state: QueueConsumer): Promise<void> {
  if (state.nextCommit !== null) return state.nextCommit;
  const start = (): Promise<void> => {
    const offsets = [...state.dirty].map(([partition, offset]) => ({ topic: state.topic, partition, offset: offset.toString() }));
    state.dirty.clear();
    const run = offsets.length === 0 ? Promise.resolve() : state.consumer.commitOffsets(offsets);
    state.committing = run;
    void run.catch(() => undefined).finally(() => {
      if (state.committing === run) state.committing = null;
    });
    return run;
  };
  if (state.committing === null) return start();
  const next = state.committing.catch(() => undefined).then(() => {
    state.nextCommit = null;
    return start();
  });
  state.nextCommit = next;
  return next;
}

/** Resumes the topic once the buffer has drained below half of `maxBuffered`. */
export function resumeIfDrained(state: QueueConsumer, maxBuffered: number): void {
  if (state.paused && state.buffer.length < maxBuffered / 2) {
    state.paused = false;
    state.consumer.resume([{ topic: state.topic }]);
  }
}
