import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection } from '@nats-io/transport-node';

/**
 * Pull requests to a JetStream pull consumer, sent as plain NATS requests
 * (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`), each answered on its own inbox subscription
 * (delivered messages keep their stream subject, so only the subscription tells pulls apart).
 *
 * Why not the client's `consumer.fetch()`: it cannot make a non-waiting pull (its minimum wait is
 * 1 s), and a long-poll must end as soon as ONE job arrives — so the provider asks for one message
 * with the wait, then for the rest without waiting. Every pull ends on a status message (404 no
 * messages, 408 timeout, 409) or when its batch is full; a local timer ends it if the connection
 * dropped the request. A pull ended early (aborted long-poll) keeps listening until the server's
 * request expires, handing late messages to `onOrphan` so the provider can NAK them at once.
 */
export class PullRequests {
  private readonly prefix = `_INBOX_kairos_${randomUUID().replace(/-/g, '')}`;
  private next = 0;
  private readonly open = new Set<() => void>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly onOrphan: (msg: Msg) => void,
  ) {}

  /** Asks for up to `batch` messages; waits up to `waitMs` for the first when `waitMs > 0`. */
  pull(stream: string, consumer: string, batch: number, waitMs: number, signal?: AbortSignal): Promise<Msg[]> {
    const inbox = `${this.prefix}.${(this.next += 1)}`;
    return new Promise<Msg[]>((resolve) => {
      const msgs: Msg[] = [];
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        resolve(msgs);
        // Until the server forgets the request, late deliveries still arrive here: give them back.
        if (msgs.length < batch && waitMs > 0) setTimeout(close, waitMs + 1_000).unref();
        else close();
      };
      const subscription = this.nc.subscribe(inbox, {
        callback: (error, msg) => {
          if (error !== null) return finish();
          const status = msg.headers?.code ?? 0;
          if (status !== 0 && msg.data.length === 0) {
            // 404 / 408 / 409 end the pull; 100 (heartbeat) is not requested and ignored.
            if (status !== 100) finish();
            return;
          }
          if (finished) return this.onOrphan(msg);
          msgs.push(msg);
          if (msgs.length >= batch) finish();
        },
      });
      const close = (): void => {
        this.open.delete(close);
        subscription.unsubscribe();
      };
      this.open.add(close);
      const timer = setTimeout(finish, waitMs + 2_000);
      signal?.addEventListener('abort', finish, { once: true });
      const request = waitMs > 0 ? { batch, expires: Math.round(waitMs * 1_000_000) } : { batch, no_wait: true };
      try {
        this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(request), { reply: inbox });
      } catch {
        finish();
      }
    });
  }

  close(): void {
    for (const close of [...this.open]) close();
  }
}

/** Parses a JetStream ack subject (v1 `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>…` or v2 with domain and account). */
export function parseAckSubject(reply: string): { deliveryCount: number; streamSeq: number; timestampMs: number } | null {
  const parts = reply.split('.');
  if (parts[0] !== '$JS' || parts[1] !== 'ACK') return null;
  const at = parts.length === 9 ? 4 : 6;
  const deliveryCount = Number(parts[at]);
  const streamSeq = Number(parts[at + 1]);
  const timestampMs = Math.floor(Number(parts[at + 3]) / 1_000_000);
  if (!Number.isFinite(deliveryCount) || !Number.isFinite(streamSeq)) return null;
  return { deliveryCount, streamSeq, timestampMs };
}
