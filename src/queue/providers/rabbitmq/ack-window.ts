import type { Channel, ConsumeMessage } from 'amqplib';

const MIN_COMPACT_AT = 1_024;

/** A delivery on one channel as the ack window sees it. */
export interface WindowEntry {
  readonly msg: ConsumeMessage;
  /** open: unsettled; marked: its ack waits for the next flush; sent: its ack or nack is on the wire. */
  state: 'open' | 'marked' | 'sent';
}

/**
 * The unsettled deliveries of one channel, in delivery-tag order, so that acks can be coalesced:
 * AMQP's `basic.ack` with `multiple` settles every delivery up to a tag in one frame. A flush sends
 * one such ack for the leading run of deliveries that are all settled (marked, or already nacked) and
 * a single ack for each marked delivery behind an open one — every marked ack leaves at the flush,
 * whatever runs long. A flush runs once per event-loop turn in which acks were marked (the jobs
 * finishing together share one frame) and right before the synchronous method that proves the acks
 * arrived (see the provider's `settled`). The broker then handles one ack per batch, not per job.
 */
export class AckWindow {
  private entries: WindowEntry[] = [];
  /** Index of the first entry that may still be unsettled; those before it are done. */
  private head = 0;
  private marked: WindowEntry[] = [];
  private compactAt = MIN_COMPACT_AT;
  private flushScheduled = false;

  constructor(private readonly channel: Channel) {}

  /** Records a delivery (state `open`); every delivery of the channel must pass here, in the order they arrive. */
  delivered(entry: WindowEntry): void {
    this.entries.push(entry);
  }

  /** The ack is sent at the next flush: at the latest once the event loop has run what is due now. */
  markAck(entry: WindowEntry): void {
    if (entry.state !== 'open') return;
    entry.state = 'marked';
    this.marked.push(entry);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      try {
        this.flush();
      } catch {
        // The channel closed: its unacked deliveries go back to the queue, and the pending proof of
        // these acks rejects, so their callers learn it there.
      }
    });
  }

  /** A nack (requeue, or dead-letter when `requeue` is false) is sent at once. */
  nack(entry: WindowEntry, requeue: boolean): void {
    if (entry.state !== 'open') return;
    entry.state = 'sent';
    this.channel.nack(entry.msg, false, requeue);
  }

  /** How many deliveries the window holds, settled ones not yet dropped included. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Sends the marked acks. */
  flush(): void {
    if (this.marked.length === 0) return;
    let upTo: WindowEntry | null = null;
    while (this.head < this.entries.length && this.entries[this.head]!.state !== 'open') {
      const entry = this.entries[this.head]!;
      // The multiple ack names a delivery still unacked on the broker: the last marked one of the run.
      if (entry.state === 'marked') {
        entry.state = 'sent';
        upTo = entry;
      }
      this.head += 1;
    }
    if (upTo !== null) this.channel.ack(upTo.msg, true);
    for (const entry of this.marked) {
      if (entry.state !== 'marked') continue;
      entry.state = 'sent';
      this.channel.ack(entry.msg, false);
    }
    this.marked = [];
    this.compact();
  }

  /**
   * Drops settled entries. Behind a long-running job the run cannot advance, so the settled entries
   * after it are filtered out too, once the list has doubled since the last time: the list stays
   * about the size of what is unacked, for amortised constant work per delivery.
   */
  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.entries.length >= this.compactAt) {
      this.entries = this.entries.slice(this.head).filter((entry) => entry.state !== 'sent');
      this.head = 0;
      this.compactAt = Math.max(MIN_COMPACT_AT, 2 * this.entries.length);
    }
  }
}
