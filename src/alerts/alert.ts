import { Lane } from '../core/states.js';
import { InvalidParametersError, KairosError } from '../errors.js';
import { redactValue, type Redactor } from './redact.js';

/** What an alert is about. */
export const AlertKind = {
  RunFailed: 'run_failed',
  DeadLetter: 'dead_letter',
  MissedSchedule: 'missed_schedule',
  Misfit: 'misfit',
  ThresholdTrigger: 'threshold_trigger',
} as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

const KINDS: readonly string[] = Object.values(AlertKind);
const LANES: readonly string[] = Object.values(Lane);

/** One thing that went wrong, as a lane reports it to the alerter. */
export interface Alert {
  kind: AlertKind;
  lane: Lane;
  /** What it is about: the job, flow, workflow or schedule name. */
  subject: string;
  /** The run to link to (`${baseUrl}/runs/${runId}`), when there is one. */
  runId?: string;
  /** The error: an Error (its class and message are shown) or a message. */
  error?: unknown;
  /** Which attempt failed, 1-based. */
  attempt?: number;
  /** Extra facts shown with the alert (threshold and value, queue name…). JSON-serialisable. */
  details?: Record<string, unknown>;
}

/** An alert checked, redacted and reduced to what messages show. */
export interface NormalizedAlert {
  kind: AlertKind;
  lane: Lane;
  subject: string;
  runId: string | null;
  attempt: number | null;
  /** `KAIROS_TIMEOUT` for Kairos errors, else the Error's name (`TypeError`), `Error` for strings. */
  errorClass: string | null;
  errorMessage: string | null;
  details: Record<string, unknown>;
  occurredAtMs: number;
  /** kind + subject + error class: alerts with one fingerprint are the same problem repeating. */
  fingerprint: string;
}

const MAX_SUBJECT_CHARS = 500;
const MAX_ERROR_CHARS = 4_000;

function errorParts(error: unknown): { errorClass: string | null; errorMessage: string | null } {
  if (error === undefined || error === null) return { errorClass: null, errorMessage: null };
  if (error instanceof KairosError) return { errorClass: error.code, errorMessage: error.message };
  if (error instanceof Error) return { errorClass: error.name || 'Error', errorMessage: error.message };
  if (typeof error === 'string') return { errorClass: 'Error', errorMessage: error };
  if (typeof error === 'object') {
    // Errors that went through JSON (a journal, a broker) arrive as { name, message } or { code, message }.
    const record = error as Record<string, unknown>;
    const errorClass = typeof record.code === 'string' ? record.code : typeof record.name === 'string' ? record.name : 'Error';
    const errorMessage = typeof record.message === 'string' ? record.message : JSON.stringify(error);
    return { errorClass, errorMessage };
  }
  // Only primitives are left (numbers, booleans, symbols…): their own text is the message.
  return { errorClass: 'Error', errorMessage: typeof error === 'symbol' ? error.toString() : `${error as number | boolean | bigint}` };
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/** Checks an alert and returns its normalized, redacted form; throws InvalidParametersError naming the field. */
export function normalizeAlert(alert: Alert, occurredAtMs: number, redact: Redactor): NormalizedAlert {
  const fail = (field: string, expected: string): never => {
    throw new InvalidParametersError(`alert.${field}: expected ${expected}.`, { details: { field } });
  };
  if (typeof alert !== 'object' || alert === null) fail('', 'an object { kind, lane, subject, … }');
  if (!KINDS.includes(alert.kind)) fail('kind', `one of ${KINDS.join(' | ')}`);
  if (!LANES.includes(alert.lane)) fail('lane', `one of ${LANES.join(' | ')}`);
  if (typeof alert.subject !== 'string' || alert.subject.length === 0) fail('subject', 'a non-empty string (the job or flow name)');
  if (alert.runId !== undefined && (typeof alert.runId !== 'string' || alert.runId.length === 0)) fail('runId', 'a non-empty string');
  if (alert.attempt !== undefined && (!Number.isInteger(alert.attempt) || alert.attempt < 0)) fail('attempt', 'a non-negative integer');
  if (alert.details !== undefined && (typeof alert.details !== 'object' || alert.details === null || Array.isArray(alert.details))) {
    fail('details', 'a plain object');
  }
  let details: Record<string, unknown> = {};
  if (alert.details !== undefined) {
    try {
      details = JSON.parse(JSON.stringify(alert.details)) as Record<string, unknown>;
    } catch (cause) {
      throw new InvalidParametersError('alert.details: expected a JSON-serialisable object.', { cause, details: { field: 'details' } });
    }
  }
  const { errorClass, errorMessage } = errorParts(alert.error);
  const subject = truncate(redact(alert.subject), MAX_SUBJECT_CHARS);
  return {
    kind: alert.kind,
    lane: alert.lane,
    subject,
    runId: alert.runId === undefined ? null : redact(alert.runId),
    attempt: alert.attempt ?? null,
    errorClass: errorClass === null ? null : redact(errorClass),
    errorMessage: errorMessage === null ? null : truncate(redact(errorMessage), MAX_ERROR_CHARS),
    details: redactValue(details, redact) as Record<string, unknown>,
    occurredAtMs,
    fingerprint: JSON.stringify([alert.kind, subject, errorClass ?? '']),
  };
}
