/**
 * The one way the UI talks to Kairos: JSON over the HTTP API with an optional bearer token.
 *
 * The token lives in sessionStorage (not localStorage) so it ends with the tab, and it is sent only
 * as an Authorization header — never in a URL, where it would reach logs and history. On a loopback
 * `kairos dev` the server lets token-less requests in, so no login box appears there.
 */

const TOKEN_KEY = 'kairos.token';

/** An error answer from the API, in its `{ error: { code, message, details } }` shape. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
  }
}

type AuthListener = () => void;
const authListeners = new Set<AuthListener>();
let unauthorized = false;

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  unauthorized = false;
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  for (const listener of authListeners) listener();
}

/** Told when a request came back 401 (the login box opens) or the token changed. */
export function onAuthChange(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

/** True after a 401 until a token is set. */
export function needsLogin(): boolean {
  return unauthorized;
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

async function readError(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  let details: unknown;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    details = body.error?.details;
  } catch {
    // Not JSON (a proxy's error page): keep the status text.
  }
  return new ApiError(response.status, code, message, details);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
}

/** Builds `/api/...?a=b`, leaving out null and undefined query values. Path parts must be encoded by the caller. */
export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** Encodes one path segment (names may hold `/`, spaces, anything). */
export const seg = (value: string): string => encodeURIComponent(value);

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  const init: RequestInit = { method: options.method ?? 'GET', headers, signal: options.signal ?? null, credentials: 'omit', cache: 'no-store' };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(apiUrl(path, options.query), init);
  if (response.status === 401) {
    unauthorized = true;
    for (const listener of authListeners) listener();
  }
  if (!response.ok) throw await readError(response);
  unauthorized = false;
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

/** A message fit for the page: the API's own message, plus what to do for auth errors. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'Not signed in: enter an API token.';
    if (error.status === 403) return `Not allowed: ${error.message}`;
    if (error.status === 404 && error.code === 'KAIROS_ROUTE_NOT_FOUND') return `This server does not have this API route yet (${error.message}).`;
    return `${error.message} (${error.code})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
