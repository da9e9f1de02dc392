import pg from 'pg';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../store/store.js';

/**
 * Who leads scheduling. On PostgreSQL: the process holding a session-level advisory lock on a
 * connection it keeps for that purpose. The server releases the lock the moment that session ends
 * — at once when the process dies (kill -9 closes its socket), or after TCP keepalive gives up on a
 * host that vanished (the session's `tcp_keepalives_*` settings below: 5 s idle + 3 × 2 s probes).
 * Followers try to take the lock every `leaderPollMs`, so failover takes at most
 * leaderPollMs + the time the server needs to notice the old session is gone.
 *
 * A leader checks its connection every `leaderPollMs` and steps down as soon as a check fails or
 * takes longer than `checkTimeoutMs`. Two processes may briefly both believe they lead (the old one
 * has not noticed yet); the unique key per fire keeps fires exactly-once even then.
 */
export interface LeaderElector {
  readonly isLeader: boolean;
  start(onChange: (leader: boolean) => void): void;
  stop(): Promise<void>;
}

/** SQLite is one process's file: that process leads. */
export function alwaysLeader(): LeaderElector {
  let leader = false;
  return {
    get isLeader() {
      return leader;
    },
    start(onChange) {
      leader = true;
      onChange(true);
    },
    stop() {
      leader = false;
      return Promise.resolve();
    },
  };
}

export interface AdvisoryLockOptions {
  store: Extract<Store, { dialect: 'postgres' }>;
  clock: Clock;
  logger: Logger;
  /** How often a follower tries to take the lock, and a leader checks it still holds it. */
  leaderPollMs: number;
  /**
   * A leader whose check takes longer than this steps down. Default max(5000, leaderPollMs): a slow
   * check on a busy machine is not a dead connection, and a needless step-down is a needless failover.
   */
  checkTimeoutMs?: number;
}

/** One lock per store schema, so separate installations on one server do not contend. */
const LOCK_CLASS = 0x4b41_4952; // 'KAIR'

export function advisoryLockLeader(options: AdvisoryLockOptions): LeaderElector {
  const { store, clock, logger, leaderPollMs } = options;
  const checkTimeoutMs = options.checkTimeoutMs ?? Math.max(5_000, leaderPollMs);
  let client: pg.Client | null = null;
  let leader = false;
  let stopped = false;
  let timer: TimerHandle | null = null;
  let running: Promise<void> = Promise.resolve();
  let notify: (leader: boolean) => void = () => undefined;

  const setLeader = (value: boolean) => {
    if (leader === value) return;
    leader = value;
    notify(value);
  };

  const dropClient = (error?: unknown) => {
    const dead = client;
    client = null;
    setLeader(false);
    // Ending the connection ends the session, which releases the lock if we still held it.
    if (dead !== null) void dead.end().catch(() => undefined);
    if (error !== undefined) logger.debug({ err: error }, 'leader connection closed');
  };

  const withTimeout = <T>(work: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const handle = clock.setTimer(() => reject(new Error(`leader check took longer than ${checkTimeoutMs} ms`)), checkTimeoutMs);
      work.then(
        (value) => {
          clock.clearTimer(handle);
          resolve(value);
        },
        (error: unknown) => {
          clock.clearTimer(handle);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });

  const round = async () => {
    try {
      if (client === null) {
        // Its own connection, not a pool slot: a pool starved by the run launcher, workers or the API
        // can then neither delay the lock check nor make this process lose (or fail to take) the lead.
        const fresh = new pg.Client({ ...store.pool.options, connectionTimeoutMillis: checkTimeoutMs });
        fresh.on('error', (error) => {
          if (client === fresh) dropClient(error);
        });
        await withTimeout(fresh.connect()).catch(async (error: unknown) => {
          await fresh.end().catch(() => undefined);
          throw error;
        });
        client = fresh;
        // Let the server notice a vanished host quickly (seconds, not the OS default of hours), and
        // never let a check wait on the server longer than the check timeout.
        await client.query(
          `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; SET statement_timeout = ${Math.ceil(checkTimeoutMs)}`,
        );
      }
      const current = client;
      if (leader) {
        await withTimeout(current.query('SELECT 1'));
      } else {
        const { rows } = await withTimeout(
          current.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_CLASS, store.schema]),
        );
        if (rows[0]?.locked === true && !stopped) setLeader(true);
      }
    } catch (error) {
      logger.warn({ err: error, wasLeader: leader }, 'scheduler leader connection failed; stepping down and reconnecting');
      dropClient(error);
    }
  };

  const loop = () => {
    if (stopped) return;
    running = round().finally(() => {
      if (!stopped) timer = clock.setTimer(loop, leaderPollMs);
    });
  };

  return {
    get isLeader() {
      return leader;
    },
    start(onChange) {
      notify = onChange;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clock.clearTimer(timer);
      await running;
      const held = client;
      client = null;
      if (held !== null) {
        // Closing the session releases the lock; unlocking first just makes it explicit in the logs.
        if (leader) await held.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, store.schema]).catch(() => undefined);
        await held.end().catch(() => undefined);
      }
      setLeader(false);
    },
  };
}
