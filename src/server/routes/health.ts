import { z } from 'zod';
import { toError } from '../../errors.js';
import { defineRoute, type RouteModule } from '../route.js';

/**
 * Liveness and health. `/healthz` is the one public route: it says only that the process answers,
 * for load balancers and orchestrators. `/api/health` (viewer) runs the injected checks (store,
 * brokers…) and reports each one; it answers 200 with `status: degraded` rather than a 5xx, because
 * the API itself is working.
 */

/** One component check; resolves to whether the component is healthy. Default timeout 2000 ms. */
export type HealthCheck = () => Promise<{ ok: boolean; latencyMs?: number; error?: string }>;

export interface HealthRoutesOptions {
  /** Named checks for /api/health. Default none. */
  checks?: Record<string, HealthCheck>;
  /** A check slower than this reports `ok: false`. Default 2000. */
  checkTimeoutMs?: number;
}

const componentSchema = z.object({ name: z.string(), ok: z.boolean(), latencyMs: z.number().nullable(), error: z.string().nullable() });

export function healthRoutes(options: HealthRoutesOptions = {}): RouteModule {
  const checks = options.checks ?? {};
  const timeoutMs = options.checkTimeoutMs ?? 2_000;

  async function runCheck(name: string, check: HealthCheck): Promise<z.input<typeof componentSchema>> {
    const startedMs = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      const result = await Promise.race([check(), timeout]);
      return { name, ok: result.ok, latencyMs: result.latencyMs ?? performance.now() - startedMs, error: result.error ?? null };
    } catch (error) {
      return { name, ok: false, latencyMs: null, error: toError(error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    name: 'health',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/healthz',
        access: 'public',
        summary: 'Liveness: the process answers.',
        tags: ['health'],
        response: { schema: z.object({ status: z.literal('ok') }) },
        handler: () => ({ status: 'ok' as const }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/health',
        access: 'viewer',
        summary: 'Health of each component (store, brokers…).',
        tags: ['health'],
        response: { schema: z.object({ status: z.enum(['ok', 'degraded']), components: z.array(componentSchema) }) },
        handler: async () => {
          const components = await Promise.all(Object.entries(checks).map(([name, check]) => runCheck(name, check)));
          return { status: components.every((c) => c.ok) ? ('ok' as const) : ('degraded' as const), components };
        },
      }),
    ],
  };
}
