#!/usr/bin/env node
// Builds the web UI (ui/) into ui/dist with vite, after type-checking it with ui/tsconfig.json.
// The vite configuration lives here rather than in ui/vite.config.ts, so the UI folder holds only
// browser code.
//
//   node scripts/build-ui.mjs                         type-check + production build into ui/dist
//   node scripts/build-ui.mjs --no-check              build only
//   node scripts/build-ui.mjs --dev [--api URL]       vite dev server on :5173, /api proxied to URL
//                                                     (default http://127.0.0.1:4000, i.e. `kairos dev`)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const uiRoot = join(root, 'ui');
const args = process.argv.slice(2);
const dev = args.includes('--dev');
const apiIndex = args.indexOf('--api');
const apiTarget = apiIndex === -1 ? 'http://127.0.0.1:4000' : args[apiIndex + 1];

/** @type {import('vite').InlineConfig} */
const config = {
  root: uiRoot,
  base: '/',
  configFile: false,
  envDir: false,
  clearScreen: false,
  logLevel: dev ? 'info' : 'warn',
  // JSX without a plugin: vite's own transform, pointed at Preact.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: join(uiRoot, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline <script> or data: URLs, so the page runs under a strict Content-Security-Policy.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The API refuses anonymous requests whose Origin is another site, so the proxy rewrites it.
    proxy: { '/api': { target: apiTarget, changeOrigin: true } },
  },
};

if (!dev && !args.includes('--no-check')) {
  const check = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(uiRoot, 'tsconfig.json')], { stdio: 'inherit' });
  if (check.status !== 0) process.exit(check.status ?? 1);
}

const vite = await import('vite');
if (dev) {
  const server = await vite.createServer(config);
  await server.listen();
  server.printUrls();
} else {
  const started = Date.now();
  await vite.build(config);
  console.log(`ui: built into ui/dist in ${Date.now() - started} ms`);
}
