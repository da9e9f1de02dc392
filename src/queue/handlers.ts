/**
 * Handlers are looked up by key on the worker: the job carries only the key and JSON data, so any
 * worker process that registered the key can run it.
 */
import type { Logger } from '../core/logger.js';
import { ConfigError } from '../errors.js';
import type { Job } from './contract.js';

export interface JobContext {
  job: Job;
  /** 1 on the first attempt. */
  attempt: number;
  /** Aborted on timeout (reason: TimeoutError), on worker shutdown (AbortedError) or when the lease was lost. */
  signal: AbortSignal;
  logger: Logger;
  /** Keeps the lease for `leaseMs` more (the worker already does this every leaseMs / 3). */
  extendLease(leaseMs?: number): Promise<boolean>;
}

/** A handler gets the payload and a context; its resolved value is reported in `job_completed`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- payloads are JSON chosen by the caller
export type JobHandler<Payload = any> = (payload: Payload, context: JobContext) => unknown;

export interface HandlerRegistry {
  register(key: string, handler: JobHandler): void;
  get(key: string): JobHandler | undefined;
  keys(): string[];
}

/** A registry of handlers by key; `handlers` may be a plain object of key → function. */
export function createHandlerRegistry(handlers: Record<string, JobHandler> | ReadonlyMap<string, JobHandler> = {}): HandlerRegistry {
  const byKey = new Map<string, JobHandler>();
  const registry: HandlerRegistry = {
    register(key, handler) {
      if (typeof key !== 'string' || key.length === 0) throw new ConfigError('Handler key must be a non-empty string.', { details: { field: 'key', value: key } });
      if (typeof handler !== 'function') {
        throw new ConfigError(`Handler '${key}' must be a function (payload, context) => result.`, { details: { field: key } });
      }
      if (byKey.has(key)) throw new ConfigError(`Handler '${key}' is registered twice: pick one.`, { details: { field: key } });
      byKey.set(key, handler);
    },
    get: (key) => byKey.get(key),
    keys: () => [...byKey.keys()],
  };
  const entries: [string, JobHandler][] =
    handlers instanceof Map ? [...(handlers as ReadonlyMap<string, JobHandler>).entries()] : Object.entries(handlers as Record<string, JobHandler>);
  for (const [key, handler] of entries) registry.register(key, handler);
  return registry;
}
