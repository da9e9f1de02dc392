import type { KairosMetrics } from '../metrics/metrics.js';
import type { RouteModule } from './route.js';
import { deploymentsRoutes } from './routes/deployments.js';
import { eventLogRoutes } from './routes/event-log.js';
import { eventsRoutes } from './routes/events.js';
import { explainRoutes } from './routes/explain.js';
import { flowsRoutes } from './routes/flows.js';
import { healthRoutes, type HealthCheck } from './routes/health.js';
import type { LaneApis } from './routes/lanes.js';
import { localRoutes } from './routes/local.js';
import { metricsRoutes } from './routes/metrics.js';
import { overviewRoutes } from './routes/overview.js';
import { queuesRoutes } from './routes/queues.js';
import { runsRoutes } from './routes/runs.js';
import type { ServerEventSource } from './sse.js';

/**
 * The route modules of the Kairos API, in one list that both the server and the OpenAPI script
 * (`npm run openapi`) use, so docs/openapi.json describes exactly what is served. The lane modules
 * are always in the table; a lane missing from `lanes` makes its routes answer 404 saying so.
 */
export interface ApiDependencies {
  metrics: KairosMetrics;
  /** The live event stream behind /api/events/stream. */
  events: ServerEventSource;
  /** What the lane routes read and act on (createKairos passes all of it). Default: no lanes. */
  lanes?: LaneApis;
  /** Component checks for /api/health. Default none. */
  healthChecks?: Record<string, HealthCheck>;
  /** SSE tuning; see EventsRoutesOptions. */
  eventStream?: { heartbeatMs?: number; maxBufferedEvents?: number; onDropped?: (count: number) => void };
}

export function kairosRouteModules(deps: ApiDependencies): RouteModule[] {
  const lanes = deps.lanes ?? {};
  return [
    healthRoutes({ checks: deps.healthChecks }),
    metricsRoutes({ metrics: deps.metrics }),
    explainRoutes(),
    eventsRoutes({ source: deps.events, ...deps.eventStream }),
    overviewRoutes({ overview: lanes.overview }),
    localRoutes({ local: lanes.local }),
    deploymentsRoutes({ deployments: lanes.deployments }),
    flowsRoutes({ engine: lanes.engine, runs: lanes.runs }),
    runsRoutes({ engine: lanes.engine, runs: lanes.runs }),
    eventLogRoutes({ bus: lanes.bus }),
    queuesRoutes({ queue: lanes.queue, workers: lanes.workers }),
  ];
}
