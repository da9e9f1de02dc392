import type { KairosMetrics } from '../metrics/metrics.js';
import type { RouteModule } from './route.js';
import { eventsRoutes } from './routes/events.js';
import { explainRoutes } from './routes/explain.js';
import { healthRoutes, type HealthCheck } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import type { ServerEventSource } from './sse.js';

/**
 * The route modules of the Kairos API, in one list that both the server and the OpenAPI script
 * (`npm run openapi`) use, so docs/openapi.json describes exactly what is served. Lane route modules
 * (schedules, queues, runs) join this list as they are wired in.
 */
export interface ApiDependencies {
  metrics: KairosMetrics;
  /** The live event stream behind /api/events/stream. */
  events: ServerEventSource;
  /** Component checks for /api/health. Default none. */
  healthChecks?: Record<string, HealthCheck>;
  /** SSE tuning; see EventsRoutesOptions. */
  eventStream?: { heartbeatMs?: number; maxBufferedEvents?: number; onDropped?: (count: number) => void };
}

export function kairosRouteModules(deps: ApiDependencies): RouteModule[] {
  return [
    healthRoutes({ checks: deps.healthChecks }),
    metricsRoutes({ metrics: deps.metrics }),
    explainRoutes(),
    eventsRoutes({ source: deps.events, ...deps.eventStream }),
  ];
}
