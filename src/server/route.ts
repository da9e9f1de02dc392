import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * The route table. Every HTTP route of Kairos is one `RouteSpec`: method, path, the role it needs,
 * zod schemas for its inputs and output, and a handler that receives the parsed inputs. The server,
 * the OpenAPI document and the auth tests are all generated from this table, so a route cannot be
 * served without being documented and checked.
 */

/** Roles, least to most powerful: viewers read, operators act on runs and schedules, admins configure. */
export const Role = { Viewer: 'viewer', Operator: 'operator', Admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** `public` routes need no token (only /healthz ships as one). */
export type RouteAccess = Role | 'public';

const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAllows(held: Role, needed: Role): boolean {
  return ROLE_RANK[held] >= ROLE_RANK[needed];
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who made a request. */
export interface AuthContext {
  role: Role;
  /** The token's name, or `anonymous` (loopback dev mode), or `public` on public routes. */
  principal: string;
  anonymous: boolean;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  auth: AuthContext;
  request: FastifyRequest;
  reply: FastifyReply;
  /** Removes configured secrets from text a handler writes itself (streams bypass the redacting onSend hook). */
  redact: (text: string) => string;
}

export type ResponseContentType = 'application/json' | 'text/plain' | 'text/event-stream';

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: HttpMethod;
  /** Fastify path syntax: `/api/runs/:runId`. */
  path: string;
  /** The least role allowed to call it. */
  access: RouteAccess;
  /**
   * Whether the route changes state. Default: every method but GET. A mutation needs `operator` or
   * `admin`; a read-only POST (such as /api/explain) sets `mutates: false`.
   */
  mutates?: boolean;
  /** Stable name in the OpenAPI document. Default: method and path, camel-cased. */
  operationId?: string;
  summary: string;
  description?: string;
  tags?: readonly string[];
  params?: P;
  query?: Q;
  body?: B;
  response: {
    /** Success status. Default 200. */
    status?: 200 | 201 | 202;
    /** Default `application/json`. `text/event-stream` routes write to `reply.raw` themselves. */
    contentType?: ResponseContentType;
    /** The handler's return value is parsed with it: undeclared fields are stripped, never leaked. */
    schema: R;
    description?: string;
  };
  handler(context: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<R>> | z.input<R>;
}

// The erased form the server stores; handlers are declared with method syntax, so a spec with
// specific schema types is assignable to it.
export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;

/** Declares a route with its types inferred from its schemas. */
export function defineRoute<
  P extends z.ZodType = z.ZodType<Record<string, never>>,
  Q extends z.ZodType = z.ZodType<Record<string, never>>,
  B extends z.ZodType = z.ZodType<undefined>,
  R extends z.ZodType = z.ZodType<unknown>,
>(spec: RouteSpec<P, Q, B, R>): AnyRoute {
  return spec;
}

/** A group of routes that belong together, plus what it must release when the server closes. */
export interface RouteModule {
  name: string;
  routes: readonly AnyRoute[];
  /** Called when the server closes (before connections are torn down): end streams, stop timers. */
  close?(): Promise<void> | void;
}

export function routeMutates(route: AnyRoute): boolean {
  return route.mutates ?? route.method !== 'GET';
}

/** Checks the table as a whole; throws ConfigError naming the route, so nothing is half-registered. */
export function checkRouteTable(modules: readonly RouteModule[]): AnyRoute[] {
  const seen = new Set<string>();
  const routes: AnyRoute[] = [];
  for (const module of modules) {
    for (const route of module.routes) {
      const key = `${route.method} ${route.path}`;
      const where = { field: 'routes', module: module.name, route: key };
      if (!route.path.startsWith('/')) throw new ConfigError(`${key} (module ${module.name}): path must start with '/'.`, { details: where });
      if (seen.has(key)) throw new ConfigError(`${key} is declared twice (second in module ${module.name}).`, { details: where });
      if (routeMutates(route) && (route.access === 'public' || route.access === 'viewer')) {
        throw new ConfigError(
          `${key} (module ${module.name}) changes state but allows ${route.access}: give it access 'operator' or 'admin', or mutates: false if it only reads.`,
          { details: where },
        );
      }
      if (route.method === 'GET' && route.body !== undefined) {
        throw new ConfigError(`${key} (module ${module.name}): a GET route cannot take a body; use query parameters.`, { details: where });
      }
      seen.add(key);
      routes.push(route);
    }
  }
  return routes;
}
