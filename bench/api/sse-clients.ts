import { parentPort, workerData } from 'node:worker_threads';

/**
 * The SSE clients of bench/api/list.ts (started through tsx's register(): a worker thread does not inherit `--import tsx`), in a worker thread: `clients` real HTTP streams; each counts
 * the `bench.tick` events it receives and the delay from their `sentAt` (absolute ms) to now.
 */
const { url, clients } = workerData as { url: string; clients: number };
const counts = new Array<number>(clients).fill(0);
const latencies: number[] = [];
let dropped = 0;
const aborts: AbortController[] = [];
let open = 0;

async function client(index: number): Promise<void> {
  const abort = new AbortController();
  aborts.push(abort);
  const response = await fetch(url, { signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  open += 1;
  if (open === clients) parentPort?.postMessage('ready');
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.includes('event: bench.tick')) {
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (data !== undefined) {
          const { sentAt } = JSON.parse(data) as { sentAt: number };
          counts[index] = (counts[index] ?? 0) + 1;
          latencies.push(performance.timeOrigin + performance.now() - sentAt);
        }
      } else if (frame.includes('event: dropped')) {
        dropped += 1;
      }
      end = buffer.indexOf('\n\n');
    }
  }
}

for (let i = 0; i < clients; i += 1) void client(i).catch(() => undefined);
parentPort?.on('message', (message: unknown) => {
  if (message === 'report') {
    parentPort?.postMessage({ counts, latencies, dropped });
    for (const abort of aborts) abort.abort();
  }
});
