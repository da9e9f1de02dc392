/** The run id in an answer that started a run (`{ runId }`). */
export function runIdOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const id = (body as { runId?: unknown }).runId;
  return typeof id === 'string' ? id : null;
}

/** Mapped tasks journal one step per item (`score[3]`); the graph has one node for them all. */
export function taskOfStep(stepKey: string): string {
  return stepKey.replace(/\[\d+\]$/, '');
}
