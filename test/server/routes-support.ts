import { z } from 'zod';
import { createKairos, type Kairos } from '../../src/app/kairos.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { workflow } from '../../src/engine/workflow/define.js';

/** A Kairos app on an in-memory SQLite store, with routes reached through fastify.inject (anonymous loopback). */
export const greet = flow('greet', {
  params: z.object({ name: z.string().min(1), times: z.number().int().positive().default(1) }),
  tasks: {
    names: task({ run: (ctx) => Array.from({ length: (ctx.params as { times: number }).times }, () => (ctx.params as { name: string }).name) }),
    hello: task({ needs: ['names'], map: 'names', run: (_ctx, up) => `hello ${String(up.names)}` }),
    fail: task({ run: () => { throw new Error('boom'); }, triggerRule: 'always' }),
  },
});

export const approval = workflow('approval', async (ctx, input: { id: string }) => {
  const decision = await ctx.waitForSignal<{ ok: boolean }>('decide', { timeoutMs: 60_000 });
  return { id: input.id, ok: decision.ok };
}, { input: z.object({ id: z.string() }) });

export async function routeApp(): Promise<Kairos> {
  const app = await createKairos({
    store: ':memory:',
    definitions: [greet, approval],
    handlers: { 'demo.fail': () => { throw new Error('always fails'); }, 'demo.ok': () => 'ok' },
    queue: { pollWaitMs: 20, queues: ['default', 'mail'] },
    engine: { pollIntervalMs: 20 },
    scheduler: { pollMs: 50 },
    http: { auth: { allowAnonymousLoopback: true }, port: 0 },
  });
  await app.start();
  return app;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field in the tests
export async function call(app: Kairos, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await app.server!.app.inject({
    method,
    url,
    headers: { host: '127.0.0.1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: response.statusCode, json: response.body === '' ? null : JSON.parse(response.body) };
}

export const waitFor = async (check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> => {
  const endMs = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > endMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
