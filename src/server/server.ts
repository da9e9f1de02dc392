import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createRedactor, type Redactor } from '../alerts/redact.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { ConfigError, ErrorCode, ForbiddenError, InvalidRequestError, RouteNotFoundError, toError } from '../errors.js';
import { createAuthenticator, type AuthOptions } from './auth.js';
import { toErrorResponse } from './http-errors.js';
import { parseJsonBody, safeJsonStringify } from './json.js';
import { buildOpenApiDocument, type JsonSchema, type OpenApiInfo } from './openapi.js';
import { checkRouteTable, defineRoute, type AnyRoute, type AuthContext, type RouteAccess, type RouteModule } from './route.js';

/**
 * The HTTP server frame: fastify with the route table, bearer auth, hard input limits, JSON errors,
 * security headers and secret redaction. It knows no lane; lanes arrive as route modules.
 *
 * Request path: onRequest (auth + role, before the body is even read) → JSON parse (size and depth
 * limits, `__proto__` / `constructor` keys refused) → zod parse of params, query and body → handler
 * → zod parse of the response (undeclared fields stripped) → escaped JSON → onSend (redaction,
 * headers). Any failure becomes `{ error: { code, message } }` with a 4xx when the client can fix it.
 */

export interface ServerOptions {
  /** Tokens and roles; see AuthOptions. Required. */
  auth: AuthOptions;
  /** Interface to listen on. Default `127.0.0.1` (loopback; use `0.0.0.0` to serve other machines). */
  host?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Request and error log. Default silent. */
  logger?: Logger;
  /** Route modules to serve; /api/openapi.json is always added. Default none. */
  routes?: readonly RouteModule[];
  /** Largest accepted request body. Default 1048576 (1 MiB). */
  bodyLimitBytes?: number;
  /** Deepest accepted JSON nesting. Default 32. */
  maxJsonDepth?: number;
  /** More strings to redact from responses and logs (webhook URLs, broker passwords). Tokens are added. */
  secrets?: readonly string[];
  /** Title, version and description of the OpenAPI document. */
  openapi?: OpenApiInfo;
}

export interface KairosServer {
  /** The fastify instance, for `inject` in tests and for embedding. */
  readonly app: FastifyInstance;
  /** The route table served, /api/openapi.json included. */
  readonly routes: readonly AnyRoute[];
  /** Whether token-less requests are let in (loopback dev mode). */
  readonly anonymousAllowed: boolean;
  openapi(): JsonSchema;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Ends live streams, stops accepting, and waits for requests in flight. */
  close(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

const MAX_ISSUES = 10;

function parseInput<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'params' | 'query' | 'body'): T | undefined {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new InvalidRequestError(`Invalid ${where}: ${summary}`, { details: { field: where, issues } });
}

function openapiRoutes(document: () => JsonSchema): RouteModule {
  return {
    name: 'openapi',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/openapi.json',
        access: 'viewer',
        summary: 'This API as an OpenAPI 3.1 document.',
        tags: ['meta'],
        response: { schema: z.record(z.string(), z.unknown()) },
        handler: () => document(),
      }),
    ],
  };
}

function checkPositiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`${field}: expected a positive integer, got ${String(value)}.`, { details: { field } });
  return value;
}

/**
 * Builds the server (not yet listening). Throws ConfigError on a bad option or route table — before
 * anything is registered, so a failure leaves nothing half-built.
 */
export function createServer(options: ServerOptions): KairosServer {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError(`port: expected 0..65535, got ${String(port)}.`, { details: { field: 'port' } });
  const bodyLimit = checkPositiveInt('bodyLimitBytes', options.bodyLimitBytes ?? 1_048_576);
  const maxJsonDepth = checkPositiveInt('maxJsonDepth', options.maxJsonDepth ?? 32);
  const logger = options.logger ?? silentLogger;
  const auth = createAuthenticator(options.auth, host);
  if (options.auth.allowAnonymousLoopback === true && !auth.anonymousAllowed) {
    logger.warn({ host }, 'allowAnonymousLoopback ignored: the server is not bound to a loopback address');
  }
  const secrets = [...auth.secrets, ...(options.secrets ?? [])];
  // A secret may also appear JSON-escaped inside a serialized body.
  const redact: Redactor = createRedactor([...secrets, ...secrets.map((s) => JSON.stringify(s).slice(1, -1))]);

  let document: JsonSchema | null = null;
  const getDocument = (): JsonSchema => (document ??= buildOpenApiDocument(routes, options.openapi));
  const modules = [...(options.routes ?? []), openapiRoutes(getDocument)];
  const routes = checkRouteTable(modules);

  const app = Fastify({
    logger: false,
    bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    requestTimeout: 30_000,
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: false },
    // Errors the router raises before any route (a malformed %-escape in the URL) get the same JSON shape.
    frameworkErrors: (error, _request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      void reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send({ error: { code: ErrorCode.InvalidRequest, message: error.code === 'FST_ERR_BAD_URL' ? 'The URL has a malformed %-escape.' : 'Bad request.' } });
    },
  });
  const authByRequest = new WeakMap<FastifyRequest, AuthContext>();

  // JSON only: no text/plain parser, so a cross-site "simple" POST (form, text/plain) gets a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string, maxJsonDepth));
    } catch (error) {
      done(toError(error), undefined);
    }
  });
  app.setReplySerializer((payload) => safeJsonStringify(payload));

  app.addHook('onRequest', (request, reply, done) => {
    // Set first, so that every response has them: errors, and streams that bypass onSend.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
    try {
      const access = (request.routeOptions.config as { access?: RouteAccess }).access ?? 'viewer';
      const context = auth.authorize(access, { authorization: request.headers.authorization, host: request.headers.host });
      // Anonymous (loopback dev) access from a browser page of another origin is cross-site request
      // forgery: refuse it. Token requests are safe, since browsers never attach bearer tokens by themselves.
      const origin = request.headers.origin;
      if (context.principal === 'anonymous' && origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) {
        throw new ForbiddenError('Anonymous requests from another origin are refused (cross-site request); send a bearer token.', {
          details: { origin },
        });
      }
      authByRequest.set(request, context);
      done();
    } catch (error) {
      done(toError(error));
    }
  });

  app.addHook('onSend', async (_request, _reply, payload) => {
    return typeof payload === 'string' ? redact(payload) : payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    logger.info(
      {
        reqId: request.id,
        method: request.method,
        // The route pattern, not the URL: query strings and ids may carry data that is not ours to log.
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        principal: authByRequest.get(request)?.principal ?? null,
      },
      'request',
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) {
      const err = toError(error);
      logger.error({ reqId: request.id, route: request.routeOptions.url ?? 'unmatched', err: redact(err.stack ?? err.message) }, 'request failed');
    }
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="kairos"');
    void reply.code(status).type('application/json; charset=utf-8');
    return body;
  });

  app.setNotFoundHandler((request) => {
    throw new RouteNotFoundError(`No route ${request.method} ${request.url.split('?')[0] ?? ''}; see /api/openapi.json.`);
  });

  app.addHook('preClose', async () => {
    await Promise.all(modules.map(async (module) => module.close?.()));
  });

  for (const route of routes) {
    const streaming = route.response.contentType === 'text/event-stream';
    const successStatus = route.response.status ?? 200;
    app.route({
      method: route.method,
      url: route.path,
      config: { access: route.access },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const auth = authByRequest.get(request);
        if (auth === undefined) throw new Error('auth context missing: onRequest hook did not run');
        const params: unknown = parseInput(route.params, request.params, 'params') ?? {};
        const query: unknown = parseInput(route.query, request.query, 'query') ?? {};
        const body: unknown = parseInput(route.body, request.body, 'body');
        const result = await route.handler({ params, query, body, auth, request, reply, redact });
        if (streaming) return reply;
        const output = route.response.schema.safeParse(result);
        if (!output.success) {
          throw new Error(`${route.method} ${route.path}: handler output does not match its response schema: ${output.error.message}`);
        }
        void reply.code(successStatus);
        if ((route.response.contentType ?? 'application/json') === 'application/json') void reply.type('application/json; charset=utf-8');
        else if (reply.getHeader('content-type') === undefined) void reply.type(`${route.response.contentType}; charset=utf-8`);
        return output.data;
      },
    });
  }

  return {
    app,
    routes,
    anonymousAllowed: auth.anonymousAllowed,
    openapi: getDocument,
    async listen() {
      await app.listen({ host, port });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address !== null ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    },
    close: () => app.close(),
  };
}
