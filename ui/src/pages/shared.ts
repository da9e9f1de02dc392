/**
 * Helpers for reading list answers. The API returns lists as `{ items: [...] }` (paged ones add
 * `nextCursor`); a bare array is accepted too.
 */
export function listItems<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (typeof body === 'object' && body !== null) {
    const items = (body as { items?: unknown }).items;
    if (Array.isArray(items)) return items as T[];
  }
  return [];
}

export function nextCursorOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const cursor = (body as { nextCursor?: unknown }).nextCursor;
  return typeof cursor === 'string' ? cursor : null;
}

/** The run id in an answer that started a run: `{ runId }`, `{ id }` or `{ run: { id } }`. */
export function runIdOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { runId?: unknown; id?: unknown; run?: { id?: unknown } };
  if (typeof b.runId === 'string') return b.runId;
  if (typeof b.run?.id === 'string') return b.run.id;
  if (typeof b.id === 'string') return b.id;
  return null;
}
