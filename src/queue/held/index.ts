/**
 * Where Kairos holds jobs a broker cannot delay (the seed's "external scheduler"): the Kairos store,
 * so a held job survives a restart of every Kairos process.
 */
import type { Store } from '../../store/store.js';
import type { HeldJobStore } from '../contract.js';
import type { HeldJobStoreOptions } from './options.js';
import { createPostgresHeldJobStore } from './postgres.js';
import { createSqliteHeldJobStore } from './sqlite.js';

export type { HeldJobStoreOptions } from './options.js';

/** A HeldJobStore on either store dialect. */
export function createHeldJobStore(store: Store, options: HeldJobStoreOptions): HeldJobStore {
  return store.dialect === 'sqlite' ? createSqliteHeldJobStore(store, options) : createPostgresHeldJobStore(store, options);
}
