import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { AnyRoute } from '../../src/server/route.js';
import { buildFixture, TOKENS } from './fixture.js';

/**
 * Property: whatever arrives — malformed JSON, wrong types, huge or deep bodies, `__proto__` keys,
 * odd paths, methods, content types and headers — every route answers 2xx/3xx/4xx, never 5xx, and
 * every error is the JSON error shape. Thousands of requests through fastify.inject (no sockets).
 */
const fixture = buildFixture();
after(() => fixture.close());
const routes = fixture.server.routes;

const HUGE = `{"frequency":"${'a'.repeat(1_100_000)}"}`;

const deep = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(([depth, asObject]) => (asObject ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`));

const poisoned = fc.oneof(
  fc.jsonValue().map((v) => `{"__proto__":${JSON.stringify(v)}}`),
  fc.constant('{"constructor":{"prototype":{"polluted":true}}}'),
  fc.constant('{"parameters":{"__proto__":{"polluted":true}},"frequency":"30s"}'),
  fc.constant('{"name":"x","__proto__":{"isAdmin":true}}'),
  fc.constant('{"frequency":"30s","constructor":{"prototype":{}}}'),
);

const plausible = fc
  .record(
    {
      frequency: fc.oneof(fc.constantFrom('30s', 'daily', 'adhoc', '<script>alert(1)</script>', '-1s', '1e309', ''), fc.jsonValue()),
      visibility: fc.oneof(fc.constantFrom('user', 'internal'), fc.jsonValue()),
      complexity: fc.jsonValue(),
      eventTriggered: fc.jsonValue(),
      name: fc.oneof(fc.string(), fc.jsonValue()),
      reason: fc.jsonValue(),
      parameters: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));

const body = fc.oneof(
  { weight: 4, arbitrary: plausible },
  { weight: 3, arbitrary: fc.json() },
  { weight: 2, arbitrary: fc.string() },
  { weight: 2, arbitrary: poisoned },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('{"a":1', 'nul', '[1,]', '{"a":1}{"b":2}', '"\\ud800"', '1'.repeat(400)) },
);

const segment = fc.oneof(
  fc.constantFrom('known', 'missing', '%', '%ZZ', '..', '<script>', '__proto__', 'constructor', 'a'.repeat(600), '%00', ' ', '%2F'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);

const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }).map((q) => new URLSearchParams(q).toString()),
  fc.constantFrom('dryRun=true', 'dryRun=maybe', 'dryRun=true&dryRun=false', '__proto__[x]=1', 'constructor[prototype][x]=1', '%', 'a=%ZZ'),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  undefined,
);

const authorization = fc.constantFrom(
  `Bearer ${TOKENS.admin}`,
  `Bearer ${TOKENS.admin}`,
  `Bearer ${TOKENS.operator}`,
  `Bearer ${TOKENS.viewer}`,
  'Bearer wrong-token-000000000000',
  'Bearer',
  'bearer   ',
  `Bearer ${TOKENS.admin} extra`,
  undefined,
);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');

function pathFor(route: AnyRoute, segments: string[]): string {
  let i = 0;
  return route.path.replace(/:([A-Za-z0-9_]+)/g, () => segments[i++ % segments.length] ?? 'x');
}

async function assertNoServerError(request: {
  method: string;
  url: string;
  payload: string | undefined;
  headers: Record<string, string>;
}): Promise<void> {
  const response = await fixture.server.app.inject({ ...request, method: request.method as 'GET' });
  const where = `${request.method} ${request.url.slice(0, 120)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
  assert.ok(response.statusCode < 500, where);
  if (response.statusCode >= 400 && request.method !== 'HEAD') {
    const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    assert.equal(typeof parsed.error?.code, 'string', where);
    assert.equal(typeof parsed.error?.message, 'string', where);
  }
}

describe('fuzz: every route, hostile input, never a 5xx', () => {
  it('routes of the table with random inputs (3000 requests)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        fc.option(method, { freq: 5 }),
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        query,
        body,
        contentType,
        authorization,
        async (index, otherMethod, segments, q, payload, type, auth) => {
          const route = routes[index]!;
          const headers: Record<string, string> = {};
          if (type !== undefined && payload !== undefined) headers['content-type'] = type;
          if (auth !== undefined) headers.authorization = auth;
          await assertNoServerError({
            method: otherMethod ?? route.method,
            url: `${pathFor(route, segments)}${q === '' ? '' : `?${q}`}`,
            payload: (otherMethod ?? route.method) === 'GET' || (otherMethod ?? route.method) === 'HEAD' ? undefined : payload,
            headers,
          });
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('random paths and methods (1000 requests)', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        fc.array(segment, { maxLength: 5 }),
        query,
        authorization,
        async (m, segments, q, auth) => {
          await assertNoServerError({
            method: m,
            url: `/${segments.join('/')}${q === '' ? '' : `?${q}`}`,
            payload: undefined,
            headers: auth === undefined ? {} : { authorization: auth },
          });
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('a body over 1 MiB gets 413, deep nesting and poisoned keys get 400 with a clear message', async () => {
    const post = (payload: string) =>
      fixture.server.app.inject({
        method: 'POST',
        url: '/api/explain',
        headers: { authorization: `Bearer ${TOKENS.viewer}`, 'content-type': 'application/json' },
        payload,
      });
    const huge = await post(HUGE);
    assert.equal(huge.statusCode, 413);
    assert.equal(JSON.parse(huge.body).error.code, 'KAIROS_PAYLOAD_TOO_LARGE');
    const nested = await post(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    assert.equal(nested.statusCode, 400);
    assert.match(JSON.parse(nested.body).error.message, /deeper than 32 levels/);
    const proto = await post('{"frequency":"30s","__proto__":{"isAdmin":true}}');
    assert.equal(proto.statusCode, 400);
    assert.match(JSON.parse(proto.body).error.message, /'__proto__' key/);
    const wrongType = await post('{"frequency":30,"visibility":7}');
    assert.equal(wrongType.statusCode, 400);
    assert.match(JSON.parse(wrongType.body).error.message, /body\.visibility/);
    const unknownKey = await post('{"frequency":"30s","colour":"blue"}');
    assert.equal(unknownKey.statusCode, 400);
    const unknownId = await fixture.server.app.inject({ method: 'GET', url: '/api/items/nope', headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    assert.equal(unknownId.statusCode, 404);
    assert.equal(JSON.parse(unknownId.body).error.code, 'KAIROS_RUN_NOT_FOUND');
  });
});
