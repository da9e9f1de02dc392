import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { z } from 'zod';
import { createAlerter } from '../../src/alerts/alerter.js';
import { defineRoute } from '../../src/server/route.js';
import { renderOpenApi } from '../../scripts/openapi.js';
import { captureLogger, Receiver } from '../alerts/support.js';
import { buildFixture, finiteSource, TOKENS } from './fixture.js';

/**
 * Canary secrets: a token, a webhook URL and a broker password carrying a canary string are
 * configured, then logs (a real pino logger into memory), API responses, the event stream, metrics
 * and the OpenAPI document are exercised; the canary must appear nowhere.
 */
const CANARY = 'CANARY7c1e5a';
const canaryToken = `tok-${CANARY}-0123456789abcdef`;
const webhookUrl = `https://hooks.slack.example/services/T0/B0/${CANARY}xyz`;
const brokerPassword = `pw-${CANARY}-broker`;

const { logger, lines } = captureLogger();
const fixture = buildFixture({
  logger,
  secrets: [webhookUrl, brokerPassword],
  auth: {
    tokens: [
      { token: canaryToken, role: 'admin', name: 'canary-admin' },
      { token: TOKENS.viewer, role: 'viewer' },
    ],
  },
  events: finiteSource([
    { type: 'run.failed', data: { error: `connect amqp://kairos:${brokerPassword}@mq:5672 refused`, hook: webhookUrl } },
  ]),
  extraRoutes: [
    {
      name: 'leaky',
      routes: [
        defineRoute({
          method: 'GET',
          path: '/api/leaky/echo',
          access: 'viewer',
          summary: 'A handler that tries to return secrets.',
          response: { schema: z.object({ config: z.string() }) },
          handler: () => ({ config: `webhook=${webhookUrl} password=${brokerPassword}` }),
        }),
        defineRoute({
          method: 'GET',
          path: '/api/leaky/crash',
          access: 'viewer',
          summary: 'A handler that crashes with secrets in its error.',
          response: { schema: z.object({}) },
          handler: () => {
            throw new Error(`boom while posting to ${webhookUrl} with token ${canaryToken}`);
          },
        }),
      ],
    },
  ],
});
after(() => fixture.close());

const admin = { authorization: `Bearer ${canaryToken}` };

describe('secrets never leave the process', () => {
  it('responses, stream, metrics, OpenAPI and logs carry no canary', async () => {
    const bodies: string[] = [];
    const send = async (request: InjectOptions) => {
      const response = await fixture.server.app.inject(request);
      bodies.push(response.body, JSON.stringify(response.headers));
      return response;
    };
    assert.equal((await send({ method: 'GET', url: '/api/health', headers: admin })).statusCode, 200);
    // The secret sent back as input is echoed in the error message — and redacted there.
    const echoed = await send({
      method: 'POST',
      url: '/api/explain',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ frequency: canaryToken }),
    });
    assert.equal(echoed.statusCode, 400);
    assert.match(echoed.body, /\[redacted\]/);
    const wrong = await send({ method: 'GET', url: '/api/health', headers: { authorization: `Bearer ${canaryToken}-wrong` } });
    assert.equal(wrong.statusCode, 401);
    const leaky = await send({ method: 'GET', url: '/api/leaky/echo', headers: admin });
    assert.equal(JSON.parse(leaky.body).config, 'webhook=[redacted] password=[redacted]');
    const crash = await send({ method: 'GET', url: '/api/leaky/crash', headers: admin });
    assert.equal(crash.statusCode, 500);
    assert.equal(JSON.parse(crash.body).error.code, 'KAIROS_INTERNAL');
    const stream = await send({ method: 'GET', url: '/api/events/stream', headers: admin });
    assert.match(stream.body, /event: run\.failed/);
    assert.match(stream.body, /amqp:\/\/kairos:\[redacted\]@mq/);
    await send({ method: 'GET', url: '/metrics', headers: admin });
    await send({ method: 'GET', url: '/api/openapi.json', headers: admin });
    bodies.push(await renderOpenApi());

    const logged = lines.join('\n');
    assert.ok(lines.some((l) => l.includes('request failed')), 'the crash was logged');
    assert.ok(lines.some((l) => l.includes('canary-admin')), 'requests are logged by token name');
    for (const [where, text] of [
      ['logs', logged],
      ['responses', bodies.join('\n')],
    ] as const) {
      assert.ok(!text.includes(CANARY), `the canary leaked into ${where}`);
    }
  });

  it('an alerter configured with the same secrets keeps them out of its logs and messages', async () => {
    const receiver = await new Receiver().start();
    const alertLog = captureLogger();
    const alerter = createAlerter({
      webhooks: [{ url: `${receiver.url}/hook/${CANARY}`, headers: { authorization: `Bearer ${canaryToken}` } }],
      baseUrl: 'http://127.0.0.1:8080',
      secrets: [brokerPassword],
      retry: { attempts: 2, baseDelayMs: 1 },
      logger: alertLog.logger,
    });
    try {
      receiver.statuses.push(500, 500);
      await alerter.notify({ kind: 'run_failed', lane: 'queue', subject: 'rotate', error: new Error(`auth failed for ${brokerPassword}`) });
      const text = [...alertLog.lines, ...receiver.requests.map((r) => JSON.stringify(r.body))].join('\n');
      assert.ok(alertLog.lines.length > 0);
      assert.ok(!text.includes(CANARY));
    } finally {
      await alerter.close();
      await receiver.stop();
    }
  });

  it('names with <script> come back JSON-escaped, with nosniff and a no-op CSP', async () => {
    const response = await fixture.server.app.inject({
      method: 'POST',
      url: '/api/explain',
      headers: { authorization: `Bearer ${TOKENS.viewer}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ frequency: '<script>alert("x")</script>&' }),
    });
    assert.equal(response.statusCode, 400);
    assert.ok(!response.body.includes('<'), response.body);
    assert.ok(!response.body.includes('&'), response.body);
    assert.match(JSON.parse(response.body).error.message, /'<script>alert\("x"\)<\/script>&'/);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
  });

  it('strips fields a handler returns beyond its response schema', async () => {
    const response = await fixture.server.app.inject({
      method: 'PUT',
      url: '/api/items/known',
      headers: { authorization: `Bearer ${canaryToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'renamed' }),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(JSON.parse(response.body), { id: 'known', name: 'renamed' });
  });
});
