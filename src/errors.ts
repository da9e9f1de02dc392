/**
 * One error hierarchy for the whole library.
 *
 * Every error Kairos throws is a `KairosError` with a stable string `code` that scripts can match on,
 * a message that says what was wrong and what to do about it, and — where another error caused it —
 * that error as `cause`. Each condition has its own subclass so callers can `instanceof` it.
 */

export const ErrorCode = {
  Config: 'KAIROS_CONFIG',
  InvalidCron: 'KAIROS_INVALID_CRON',
  InvalidDuration: 'KAIROS_INVALID_DURATION',
  InvalidDate: 'KAIROS_INVALID_DATE',
  InvalidTimezone: 'KAIROS_INVALID_TIMEZONE',
  InvalidTrigger: 'KAIROS_INVALID_TRIGGER',
  DuplicateJob: 'KAIROS_DUPLICATE_JOB',
  JobNotFound: 'KAIROS_JOB_NOT_FOUND',
  SchedulerStopped: 'KAIROS_SCHEDULER_STOPPED',
  Timeout: 'KAIROS_TIMEOUT',
  Aborted: 'KAIROS_ABORTED',
  Store: 'KAIROS_STORE',
  Migration: 'KAIROS_MIGRATION',
  UnknownProvider: 'KAIROS_UNKNOWN_PROVIDER',
  ProviderUnavailable: 'KAIROS_PROVIDER_UNAVAILABLE',
  PayloadTooLarge: 'KAIROS_PAYLOAD_TOO_LARGE',
  PayloadNotSerializable: 'KAIROS_PAYLOAD_NOT_SERIALIZABLE',
  UnknownHandler: 'KAIROS_UNKNOWN_HANDLER',
  QueueJobNotFound: 'KAIROS_QUEUE_JOB_NOT_FOUND',
  InvalidFlow: 'KAIROS_INVALID_FLOW',
  InvalidParameters: 'KAIROS_INVALID_PARAMETERS',
  RunNotFound: 'KAIROS_RUN_NOT_FOUND',
  StepOutputNotRecordable: 'KAIROS_STEP_OUTPUT_NOT_RECORDABLE',
  WorkflowCancelled: 'KAIROS_WORKFLOW_CANCELLED',
  InvalidProfile: 'KAIROS_INVALID_PROFILE',
  InvalidRunState: 'KAIROS_INVALID_RUN_STATE',
  DeploymentNotFound: 'KAIROS_DEPLOYMENT_NOT_FOUND',
  InvalidRequest: 'KAIROS_INVALID_REQUEST',
  Unauthorized: 'KAIROS_UNAUTHORIZED',
  Forbidden: 'KAIROS_FORBIDDEN',
  RouteNotFound: 'KAIROS_ROUTE_NOT_FOUND',
  DefinitionNotFound: 'KAIROS_DEFINITION_NOT_FOUND',
  QueueNotFound: 'KAIROS_QUEUE_NOT_FOUND',
  LeaseLost: 'KAIROS_LEASE_LOST',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface KairosErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (field name, value, limit…), safe to log and serialise. */
  details?: Record<string, unknown>;
}

export class KairosError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: KairosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): { name: string; code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** Configuration that failed validation; `details.field` names the offending field. */
export class ConfigError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Config, message, options);
  }
}

export class InvalidCronError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidCron, message, options);
  }
}

export class InvalidDurationError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidDuration, message, options);
  }
}

export class InvalidDateError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidDate, message, options);
  }
}

export class InvalidTimezoneError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidTimezone, message, options);
  }
}

/** A trigger specification that is incomplete, contradictory or names an unknown field. */
export class InvalidTriggerError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidTrigger, message, options);
  }
}

export class DuplicateJobError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.DuplicateJob, message, options);
  }
}

export class JobNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.JobNotFound, message, options);
  }
}

export class SchedulerStoppedError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.SchedulerStopped, message, options);
  }
}

/** A job, step or call ran past its `timeoutMs`. */
export class TimeoutError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Timeout, message, options);
  }
}

/** Work stopped because its AbortSignal fired (shutdown, cancel). */
export class AbortedError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Aborted, message, options);
  }
}

export class StoreError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Store, message, options);
  }
}

export class MigrationError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Migration, message, options);
  }
}

export class UnknownProviderError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.UnknownProvider, message, options);
  }
}

/** A broker or database could not be reached within the bounded connection attempts. */
export class ProviderUnavailableError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.ProviderUnavailable, message, options);
  }
}

export class PayloadTooLargeError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.PayloadTooLarge, message, options);
  }
}

export class PayloadNotSerializableError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.PayloadNotSerializable, message, options);
  }
}

export class UnknownHandlerError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.UnknownHandler, message, options);
  }
}

export class QueueJobNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.QueueJobNotFound, message, options);
  }
}

/** A flow definition that cannot run: a cycle, an unknown dependency, a duplicate task name. */
export class InvalidFlowError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidFlow, message, options);
  }
}

export class InvalidParametersError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidParameters, message, options);
  }
}

export class RunNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.RunNotFound, message, options);
  }
}

/** A step returned a value the journal cannot store (a function, a cycle, a BigInt…). */
export class StepOutputNotRecordableError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.StepOutputNotRecordable, message, options);
  }
}

export class WorkflowCancelledError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.WorkflowCancelled, message, options);
  }
}

export class InvalidProfileError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidProfile, message, options);
  }
}

/** The run is not in a state that allows the request (retrying a running run, signalling a finished one). */
export class InvalidRunStateError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidRunState, message, options);
  }
}

/** No deployment has the given name (or id); `details.name` says which. */
export class DeploymentNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.DeploymentNotFound, message, options);
  }
}

/** An HTTP request the API cannot read: malformed JSON, a wrong type, a body too deep or too large. */
export class InvalidRequestError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.InvalidRequest, message, options);
  }
}

/** An API request without a valid bearer token. */
export class UnauthorizedError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Unauthorized, message, options);
  }
}

/** An API request whose token's role may not do what it asked. */
export class ForbiddenError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.Forbidden, message, options);
  }
}

/** An API request for a path or method the server does not have. */
export class RouteNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.RouteNotFound, message, options);
  }
}

/** No flow or workflow of that name is registered with the engine; `details.name` says which. */
export class DefinitionNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.DefinitionNotFound, message, options);
  }
}

/** No queue of that name is known to this Kairos (served by its workers or named in its options). */
export class QueueNotFoundError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.QueueNotFound, message, options);
  }
}

/**
 * A write made on behalf of a run's executor was refused because that executor no longer holds the
 * run's lease (it stalled past its lease and another claim took the run over, or the run left
 * Running). The executor must stop: `details.runId` says which run.
 */
export class LeaseLostError extends KairosError {
  constructor(message: string, options?: KairosErrorOptions) {
    super(ErrorCode.LeaseLost, message, options);
  }
}

/** Turns anything thrown into an Error, so handlers that throw strings or objects are still reported. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(JSON.stringify(thrown));
  } catch {
    return new Error(String(thrown));
  }
}
