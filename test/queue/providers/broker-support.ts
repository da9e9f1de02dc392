import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../../src/store/store.js';

/** A throwaway SQLite Kairos store (for the broker ledger) in its own temp folder; `dispose` removes it. */
export function tempLedgerStore(label: string): { store: SqliteStore; dispose: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `kairos-${label}-`));
  const store = openSqliteStore({ path: join(dir, 'kairos.db') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of a broker, so a test can cut every client connection (as a network drop or
 * a broker-side kill would) without touching the shared server. New connections keep working.
 */
export async function startCutProxy(targetHost: string, targetPort: number): Promise<{ port: number; cutAll: () => number; close: () => Promise<void> }> {
  const pairs = new Set<{ a: Socket; b: Socket }>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair = { a: client, b: upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    cutAll: () => {
      const n = pairs.size;
      for (const { a, b } of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      return n;
    },
    close: async () => {
      for (const { a, b } of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
