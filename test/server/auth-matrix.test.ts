import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AnyRoute } from '../../src/server/route.js';
import { roleAllows, routeMutates, type Role } from '../../src/server/route.js';
import { createServer } from '../../src/server/server.js';
import { ConfigError } from '../../src/errors.js';
import { buildFixture, finiteSource, laneShapedRoutes, TOKENS } from './fixture.js';

/**
 * Generated from the route table: every route × {no token, malformed, wrong token, viewer, operator,
 * admin}. Adding a route adds its rows; a public route must be on the allowlist below.
 */
const PUBLIC_ALLOWLIST = ['GET /healthz'];

const fixture = buildFixture();
after(() => fixture.close());

function samplePath(route: AnyRoute): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, 'known');
}

function sampleBody(route: AnyRoute): string | undefined {
  if (route.body === undefined) return route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
  if (route.path === '/api/explain') return JSON.stringify({ frequency: '30s' });
  if (route.method === 'PUT') return JSON.stringify({ name: 'renamed' });
  return '{}';
}

async function call(route: AnyRoute, authorization: string | undefined) {
  const payload = sampleBody(route);
  return fixture.server.app.inject({
    method: route.method,
    url: samplePath(route),
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    },
    payload,
  });
}

describe('auth matrix, generated from the route table', () => {
  const routes = fixture.server.routes;

  it('covers a table with reads and mutations for every role', () => {
    assert.ok(routes.length >= 9, `only ${routes.length} routes`);
    assert.ok(routes.some((r) => routeMutates(r) && r.access === 'operator'));
    assert.ok(routes.some((r) => routeMutates(r) && r.access === 'admin'));
    assert.deepEqual(
      routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`),
      PUBLIC_ALLOWLIST,
      'a new public route must be added to the allowlist on purpose',
    );
  });

  for (const route of fixture.server.routes) {
    const key = `${route.method} ${route.path}`;
    describe(key, () => {
      if (route.access === 'public') {
        it('answers without a token', async () => {
          const response = await call(route, undefined);
          assert.ok(response.statusCode < 400, `${response.statusCode} ${response.body}`);
        });
        return;
      }
      for (const [label, header] of [
        ['no token', undefined],
        ['a wrong token', `Bearer ${TOKENS.admin}x`],
        ['a token prefix', `Bearer ${TOKENS.admin.slice(0, -1)}`],
        ['a non-bearer scheme', `Basic ${Buffer.from(`admin:${TOKENS.admin}`).toString('base64')}`],
        ['an empty bearer', 'Bearer '],
      ] as const) {
        it(`rejects ${label} with 401 and a JSON error`, async () => {
          const response = await call(route, header);
          assert.equal(response.statusCode, 401, response.body);
          assert.equal(response.headers['www-authenticate'], 'Bearer realm="kairos"');
          assert.equal(JSON.parse(response.body).error.code, 'KAIROS_UNAUTHORIZED');
        });
      }
      for (const role of ['viewer', 'operator', 'admin'] as const satisfies readonly Role[]) {
        const allowed = roleAllows(role, route.access);
        it(`${allowed ? 'admits' : 'forbids (403)'} ${role}`, async () => {
          const response = await call(route, `Bearer ${TOKENS[role]}`);
          if (allowed) assert.ok(response.statusCode !== 401 && response.statusCode !== 403, `${response.statusCode} ${response.body}`);
          else {
            assert.equal(response.statusCode, 403, response.body);
            assert.equal(JSON.parse(response.body).error.code, 'KAIROS_FORBIDDEN');
          }
        });
      }
      if (routeMutates(route)) {
        it('is a mutation, so a viewer is refused', async () => {
          assert.equal((await call(route, `Bearer ${TOKENS.viewer}`)).statusCode, 403);
        });
      }
    });
  }
});

describe('anonymous loopback mode (kairos dev)', () => {
  const dev = createServer({
    auth: { allowAnonymousLoopback: true },
    host: '127.0.0.1',
    port: 0,
    routes: [laneShapedRoutes()],
  });
  after(() => dev.close());

  it('admits token-less requests addressed to a loopback host', async () => {
    assert.equal(dev.anonymousAllowed, true);
    const response = await dev.app.inject({ method: 'DELETE', url: '/api/items/other', headers: { host: '127.0.0.1:8080' } });
    assert.equal(response.statusCode, 200, response.body);
  });

  it('refuses a non-loopback Host header (DNS rebinding) and a foreign Origin (cross-site request)', async () => {
    const rebinding = await dev.app.inject({ method: 'GET', url: '/api/items/known', headers: { host: 'evil.example:8080' } });
    assert.equal(rebinding.statusCode, 401);
    const crossSite = await dev.app.inject({
      method: 'POST',
      url: '/api/items/known/trigger',
      headers: { host: 'localhost:8080', origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(crossSite.statusCode, 403);
    const sameOrigin = await dev.app.inject({
      method: 'POST',
      url: '/api/items/known/trigger',
      headers: { host: 'localhost:8080', origin: 'http://localhost:8080', 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(sameOrigin.statusCode, 202, sameOrigin.body);
  });

  it('refuses a cross-site form post by content type (415) even before it reaches a handler', async () => {
    const form = await dev.app.inject({
      method: 'POST',
      url: '/api/items/known/trigger',
      headers: { host: 'localhost:8080', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    assert.equal(form.statusCode, 415);
  });

  it('is off when the server listens beyond loopback, even if asked for', async () => {
    const exposed = createServer({
      auth: { allowAnonymousLoopback: true, tokens: [{ token: TOKENS.admin, role: 'admin' }] },
      host: '0.0.0.0',
      port: 0,
      routes: [laneShapedRoutes()],
    });
    try {
      assert.equal(exposed.anonymousAllowed, false);
      const response = await exposed.app.inject({ method: 'GET', url: '/api/items/known', headers: { host: '127.0.0.1' } });
      assert.equal(response.statusCode, 401);
    } finally {
      await exposed.close();
    }
    assert.throws(() => createServer({ auth: { allowAnonymousLoopback: true }, host: '0.0.0.0', routes: [] }), ConfigError);
    assert.throws(() => createServer({ auth: {}, routes: [] }), ConfigError);
  });

  it('refuses weak, duplicate or mis-roled tokens without echoing them', () => {
    for (const tokens of [
      [{ token: 'short', role: 'admin' }],
      [{ token: 'has whitespace in the middle', role: 'admin' }],
      [
        { token: TOKENS.admin, role: 'admin' },
        { token: TOKENS.admin, role: 'viewer' },
      ],
      [{ token: TOKENS.admin, role: 'root' }],
    ]) {
      assert.throws(
        () => createServer({ auth: { tokens: tokens as never }, routes: [] }),
        (error: unknown) => error instanceof ConfigError && !error.message.includes(TOKENS.admin) && !error.message.includes('short'),
      );
    }
  });

  it('refuses a route table with a viewer mutation or a duplicate route, naming it', () => {
    const module = laneShapedRoutes();
    const viewerMutation = { name: 'bad', routes: [{ ...module.routes[1]!, access: 'viewer' as const }] };
    assert.throws(() => createServer({ auth: { allowAnonymousLoopback: true }, routes: [viewerMutation] }), /POST \/api\/items\/:id\/trigger/);
    assert.throws(() => createServer({ auth: { allowAnonymousLoopback: true }, routes: [module, laneShapedRoutes()] }), /declared twice/);
    // finiteSource is used so the import is exercised by the type checker too.
    assert.equal(typeof finiteSource(), 'function');
  });
});
