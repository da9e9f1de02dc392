import type { Clock } from '../../core/clock.js';
import type { ProviderName } from '../contract.js';

export interface HeldJobStoreOptions {
  /** The provider whose jobs this store holds; each provider's held jobs are kept apart. */
  provider: ProviderName;
  /**
   * How long a dispatcher owns jobs it took before another may take them again (if it died before
   * confirming the hand-over). Default 30000.
   */
  claimMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
}
