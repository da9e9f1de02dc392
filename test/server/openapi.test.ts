import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { OPENAPI_PATH, renderOpenApi } from '../../scripts/openapi.js';
import { buildFixture, TOKENS } from './fixture.js';

const fixture = buildFixture();
after(() => fixture.close());

describe('OpenAPI document', () => {
  it('docs/openapi.json matches the route table (run `npm run openapi` after changing routes)', async () => {
    assert.equal(readFileSync(OPENAPI_PATH, 'utf8'), await renderOpenApi());
  });

  it('is served at /api/openapi.json and documents every route, its access and its schemas', async () => {
    const response = await fixture.server.app.inject({ method: 'GET', url: '/api/openapi.json', headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    assert.equal(response.statusCode, 200);
    const doc = JSON.parse(response.body);
    assert.equal(doc.openapi, '3.1.0');
    for (const route of fixture.server.routes) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      assert.ok(op !== undefined, `${route.method} ${route.path} is missing`);
      assert.equal(op['x-kairos-access'], route.access);
      assert.deepEqual(op.security, route.access === 'public' ? [] : [{ bearerAuth: [] }]);
    }
    const explain = doc.paths['/api/explain'].post;
    assert.deepEqual(explain.requestBody.content['application/json'].schema.required, ['frequency']);
    assert.equal(explain.requestBody.content['application/json'].schema.additionalProperties, false);
    const trigger = doc.paths['/api/items/{id}/trigger'].post;
    assert.deepEqual(
      trigger.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required]),
      [
        ['id', 'path', true],
        ['dryRun', 'query', false],
      ],
    );
    assert.ok(trigger.responses['202'] !== undefined);
    assert.equal(trigger.responses['403'].content['application/json'].schema.$ref, '#/components/schemas/Error');
  });
});
