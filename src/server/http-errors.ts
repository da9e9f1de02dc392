import { ErrorCode, KairosError } from '../errors.js';

/**
 * How errors become HTTP responses: always `{ error: { code, message, details? } }`, with a 4xx for
 * anything the client can fix. A 5xx means a bug or an outage on our side, never bad input.
 */

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The code of the 500 response; deliberately not a KairosError code — nothing throws it. */
export const INTERNAL_ERROR_CODE = 'KAIROS_INTERNAL';

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.Config]: 400,
  [ErrorCode.InvalidParameters]: 400,
  [ErrorCode.InvalidProfile]: 400,
  [ErrorCode.PayloadNotSerializable]: 400,
  [ErrorCode.UnknownHandler]: 400,
  [ErrorCode.UnknownProvider]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.DuplicateJob]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.SchedulerStopped]: 503,
  [ErrorCode.ProviderUnavailable]: 503,
  [ErrorCode.Timeout]: 504,
};

/** The status for a KairosError code; codes added later by other modules map by their name. */
export function statusForCode(code: string): number {
  const known = STATUS_BY_CODE[code as ErrorCode];
  if (known !== undefined) return known;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.startsWith('KAIROS_INVALID_')) return 400;
  if (code.startsWith('KAIROS_DUPLICATE_') || code.endsWith('_CONFLICT')) return 409;
  return 500;
}

/** Fastify's own client errors (bad JSON, wrong content type, body too large) keep their 4xx. */
function fastifyClientError(error: unknown): { status: number; code: string; message: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const { statusCode, code, message } = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return null;
  const text = typeof message === 'string' ? message : 'Bad request.';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, code: ErrorCode.PayloadTooLarge, message: 'The request body is larger than the server accepts.' };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, code: ErrorCode.InvalidRequest, message: 'Unsupported content type: send application/json.' };
  }
  if (statusCode === 404) return { status: 404, code: ErrorCode.RouteNotFound, message: text };
  return { status: statusCode, code: ErrorCode.InvalidRequest, message: text };
}

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof KairosError) {
    const status = statusForCode(error.code);
    if (status < 500 || status === 503 || status === 504) {
      const details = Object.keys(error.details).length === 0 ? undefined : error.details;
      return { status, body: { error: { code: error.code, message: error.message, ...(details === undefined ? {} : { details }) } } };
    }
  }
  const client = fastifyClientError(error);
  if (client !== null) return { status: client.status, body: { error: { code: client.code, message: client.message } } };
  // Internal faults say nothing about their cause: it is logged (redacted), not shown.
  return { status: 500, body: { error: { code: INTERNAL_ERROR_CODE, message: 'Internal error; the server log has the details.' } } };
}
