import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { RunState } from '../../core/states.js';
import type { EngineRepository, RunLease } from '../store/repository.js';
import type { LogLevel, RunRecord, StepKind, StepLogger } from '../types.js';

/**
 * Everything an executor (flow or workflow) needs while it holds one run: the store, the clock,
 * the signal that stops it, and the callbacks that report to the engine. Executors never touch the
 * run row's state themselves; they return an ExecutionOutcome and the engine records it.
 */
export interface RunExecution {
  readonly run: RunRecord;
  readonly repo: EngineRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly workerId: string;
  /**
   * The claim this execution runs under. Every journal write carries it; once another claim took
   * the run over, those writes throw LeaseLostError and the execution stops (its signal fires).
   */
  readonly lease: RunLease;
  /** Worker queues this worker serves. */
  readonly queues: ReadonlySet<string>;
  /** Fires on cancel, on shutdown past the deadline, or when the lease was lost. */
  readonly signal: AbortSignal;
  readonly maxRecordBytes: number;
  emitStep(stepKey: string, kind: StepKind, state: RunState, attempt: number): void;
  /** A logger whose lines go to the run timeline under `stepKey`. */
  stepLogger(stepKey: string): StepLogger;
  /** Waits until every log line written so far is stored. */
  flushLogs(): Promise<void>;
  /**
   * Waits for a slot of `tag` (global across runs and workers, see TagSlots); resolves with its
   * release. Rejects with AbortedError when the run's signal fires.
   */
  acquireTagSlot(tag: string, limit: number, stepKey: string): Promise<() => Promise<void>>;
  /** Creates a child run (idempotent per key); returns its id. */
  startChild(name: string, params: unknown, idempotencyKey: string): Promise<string>;
}

export type ExecutionOutcome =
  | { type: 'finished'; state: RunState; result: unknown; error: unknown }
  | { type: 'suspended'; wakeMs: number | null }
  | { type: 'handoff'; queue: string }
  | { type: 'interrupted' };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
