import type { Migration } from './migration.js';
import { migration as localSchedules } from './001_local_jobs.js';
import { migration as queue } from './002_queue.js';
import { migration as brokerLedger } from './003_broker_ledger.js';
import { migration as engine } from './004_engine.js';
import { migration as deployments } from './005_deployments.js';
import { migration as runListing } from './006_run_listing.js';
import { migration as engineTagSlots } from './007_engine_tag_slots.js';
import { migration as queueHeldGeneration } from './008_queue_held_generation.js';
import { migration as engineLeaseToken } from './009_engine_lease_token.js';
import { migration as queueJobKey } from './010_queue_job_key.js';

/** Every migration, in order. Add a lane's migration here with the next free version number. */
export const MIGRATIONS: readonly Migration[] = [localSchedules, queue, brokerLedger, engine, deployments, runListing, engineTagSlots, queueHeldGeneration, engineLeaseToken, queueJobKey];
