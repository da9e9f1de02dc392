// Writes docs/openapi.json from the route table (`npm run openapi`); `--check` only compares and
// exits 1 when the checked-in file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { createMetrics } from '../src/metrics/metrics.js';
import { kairosRouteModules } from '../src/server/api.js';
import { createServer } from '../src/server/server.js';

export const OPENAPI_PATH = new URL('../docs/openapi.json', import.meta.url);

/** The document as checked in: two-space JSON with a trailing newline. */
export async function renderOpenApi(): Promise<string> {
  const metrics = createMetrics({ defaultMetrics: false });
  // The document depends on the route table only; auth mode and event source do not appear in it.
  const server = createServer({
    auth: { allowAnonymousLoopback: true },
    host: '127.0.0.1',
    routes: kairosRouteModules({ metrics, events: async function* () {} }),
  });
  try {
    return `${JSON.stringify(server.openapi(), null, 2)}\n`;
  } finally {
    await server.close();
    metrics.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await renderOpenApi();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OPENAPI_PATH, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      process.stderr.write('docs/openapi.json is stale: run `npm run openapi`.\n');
      process.exit(1);
    }
  } else {
    writeFileSync(OPENAPI_PATH, text);
    process.stdout.write('wrote docs/openapi.json\n');
  }
}
