import type { Store } from '../../store/store.js';
import type { BrokerLedger } from './ledger.js';
import { createPostgresLedger } from './postgres.js';
import { createSqliteLedger } from './sqlite.js';

export type { BrokerLedger, DedupClaim } from './ledger.js';

/**
 * The broker ledger on the Kairos store: dead letters and live dedup keys for pure brokers.
 * Needs migration 003 (applied by `openSqliteStore` / `openPostgresStore`).
 */
export function createBrokerLedger(store: Store): BrokerLedger {
  return store.dialect === 'sqlite' ? createSqliteLedger(store) : createPostgresLedger(store);
}
