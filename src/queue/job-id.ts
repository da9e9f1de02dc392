import { v7 } from 'uuid';

/**
 * The id of a job enqueued without one: a UUIDv7 (RFC 9562), random but ordered by creation time.
 * Ids are primary keys in the job tables and in the broker ledger's claims; time-ordered keys land
 * at the right edge of those B-trees instead of at random pages, which made a SQLite ledger claim
 * and its release about 4× cheaper (8.5 → 2 µs) than with random v4 ids.
 */
export function newJobId(): string {
  return v7();
}
