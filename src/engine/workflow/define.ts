import type { ZodType } from 'zod';
import type { Duration } from '../../core/duration.js';
import type { RetryPolicy } from '../runtime/attempts.js';
import type { StepLogger } from '../types.js';
import { assertName } from '../flow/define.js';

/** What a step body receives. */
export interface StepContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Fires on cancel, timeout or shutdown. */
  readonly signal: AbortSignal;
  readonly log: StepLogger;
}

export interface StepOptions {
  /** Default: no retries. */
  retries?: RetryPolicy;
  /** Per attempt. Default: none. */
  timeoutMs?: number;
}

export interface WaitForEventOptions<T> {
  /**
   * Which payloads this wait accepts: a predicate, or an object whose fields must all be present
   * with equal values (a subset match). Others stay buffered for later waits. Default: any.
   */
  match?: ((payload: T) => boolean) | Partial<T> | Record<string, unknown>;
  /** Give up after this long: the wait throws TimeoutError. Default: wait forever. */
  timeoutMs?: number;
}

/** A started child run. */
export interface ChildHandle<T = unknown> {
  readonly runId: string;
  /** Durably waits for the child: its result, or it throws if the child did not complete. */
  result(): Promise<T>;
}

/**
 * The durable context of a workflow. Every method is journaled: on replay it returns what it
 * returned the first time, without running again. See docs/engine.md for the determinism rule.
 */
export interface WorkflowContext<I = unknown> {
  readonly runId: string;
  readonly workflowName: string;
  readonly input: I;
  /** Fires when the run is cancelled (or the worker shuts down); pass it to I/O you start. */
  readonly signal: AbortSignal;
  readonly log: StepLogger;
  /** Runs `fn` once (retrying per options) and records its output; journal key `name#n`. */
  step<T>(name: string, fn: (ctx: StepContext) => Promise<T> | T, options?: StepOptions): Promise<T>;
  /** A durable sleep: the run goes Waiting and frees the worker; any worker resumes it after. */
  sleep(duration: Duration): Promise<void>;
  /** Waits for `engine.deliverEvent(name, payload)`; see docs for the buffering rule. */
  waitForEvent<T = unknown>(name: string, options?: WaitForEventOptions<T>): Promise<T>;
  /** Waits for `engine.signal(runId, name, payload)`; signals are buffered from the run's start. */
  waitForSignal<T = unknown>(name: string, options?: { timeoutMs?: number }): Promise<T>;
  /** Starts a child flow or workflow run (once, even across replays). Cancelling this run cancels it. */
  startChild<T = unknown>(name: string, input?: unknown): Promise<ChildHandle<T>>;
  /** The clock, recorded: a resumed run sees the same value. */
  now(): Promise<number>;
  /** Math.random(), recorded. */
  random(): Promise<number>;
}

export interface WorkflowOptions<I> {
  /** A zod schema for the input; a run with bad input is rejected. Default: any value. */
  input?: ZodType<I>;
  description?: string;
}

export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly description: string | undefined;
  readonly fn: (ctx: WorkflowContext<I>, input: I) => Promise<O>;
  readonly inputSchema: ZodType<I> | undefined;
}

/** Defines a durable workflow: an async function whose context methods are journaled. */
export function workflow<I = unknown, O = unknown>(
  name: string,
  fn: (ctx: WorkflowContext<I>, input: I) => Promise<O>,
  options: WorkflowOptions<I> = {},
): WorkflowDefinition<I, O> {
  assertName(name, 'workflow name');
  return { kind: 'workflow', name, description: options.description, fn, inputSchema: options.input };
}
