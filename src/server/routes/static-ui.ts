import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RouteNotFoundError } from '../../errors.js';

/**
 * Serves the built web UI (ui/dist) at `/`: files as they are, and index.html for any other non-API
 * path, so the single-page app's own routes (/runs/abc) load on refresh. It sits outside the route
 * table on purpose: these are public static files (the browser cannot attach a bearer token to a page
 * load; the UI sends it on its API calls), and the table allows one public route only.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// The API's CSP forbids everything; a page needs its own scripts, styles and API calls (same origin only).
const UI_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Whether `dir` holds a built UI (an index.html). */
export function hasBuiltUi(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Adds `GET /*` to a server built by createServer (before it listens). */
export function serveUi(app: FastifyInstance, dir: string): void {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  app.route({
    method: 'GET',
    url: '/*',
    config: { access: 'public' },
    handler: async (request, reply) => {
      const path = (request.params as { '*'?: string })['*'] ?? '';
      if (path === 'api' || path.startsWith('api/') || path === 'metrics') {
        throw new RouteNotFoundError(`No route GET /${path.split('?')[0] ?? ''}; see /api/openapi.json.`);
      }
      let file = index;
      if (path !== '') {
        const candidate = resolve(root, path);
        // Never outside the UI folder (`..`, encoded slashes and absolute paths all end up here).
        if (candidate.startsWith(root + sep) && existsSync(candidate) && statSync(candidate).isFile()) file = candidate;
      }
      const body = await readFile(file);
      const immutable = file !== index && file.startsWith(join(root, 'assets') + sep);
      return reply
        .header('content-security-policy', UI_CSP)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .type(TYPES[extname(file)] ?? 'application/octet-stream')
        .send(body);
    },
  });
}
