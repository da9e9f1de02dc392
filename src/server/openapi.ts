import { z } from 'zod';
import { routeMutates, type AnyRoute } from './route.js';

/**
 * The OpenAPI 3.1 document, generated from the route table (OpenAPI 3.1 schemas are JSON Schema
 * 2020-12, which is what `z.toJSONSchema` emits). Output is deterministic — same table, same bytes —
 * so the copy checked in at docs/openapi.json can be compared in a test.
 */

export type JsonSchema = Record<string, unknown>;

export interface OpenApiInfo {
  title?: string;
  version?: string;
  description?: string;
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable error code, e.g. KAIROS_INVALID_REQUEST.' },
        message: { type: 'string', description: 'What was wrong and what to do about it.' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
};

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** `/api/runs/:runId` → `/api/runs/{runId}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationId(route: AnyRoute): string {
  if (route.operationId !== undefined) return route.operationId;
  const words = `${route.method.toLowerCase()} ${route.path}`.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const json = toSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const errorResponse = (description: string): JsonSchema => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: AnyRoute): JsonSchema {
  const responses: Record<string, JsonSchema> = {
    [String(route.response.status ?? 200)]: {
      description: route.response.description ?? 'Success.',
      content: { [route.response.contentType ?? 'application/json']: { schema: toSchema(route.response.schema, 'output') } },
    },
  };
  if (route.params !== undefined || route.query !== undefined || route.body !== undefined) responses['400'] = errorResponse('Invalid request.');
  if (route.access !== 'public') {
    responses['401'] = errorResponse('Missing or unrecognised bearer token.');
    responses['403'] = errorResponse(`The token's role is below ${route.access}.`);
  }
  if (route.params !== undefined) responses['404'] = errorResponse('No such resource.');
  if (route.body !== undefined) responses['413'] = errorResponse('Body too large.');

  const op: JsonSchema = {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    ...(route.tags === undefined ? {} : { tags: [...route.tags] }),
    security: route.access === 'public' ? [] : [{ bearerAuth: [] }],
    'x-kairos-access': route.access,
    'x-kairos-mutates': routeMutates(route),
  };
  const params = [...parameters(route.params, 'path'), ...parameters(route.query, 'query')];
  if (params.length > 0) op.parameters = params;
  if (route.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
  }
  op.responses = responses;
  return op;
}

export function buildOpenApiDocument(routes: readonly AnyRoute[], info: OpenApiInfo = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title ?? 'Kairos API',
      version: info.version ?? '0.1.0',
      description:
        info.description ??
        'One API for every Kairos lane. Send `Authorization: Bearer <token>`; roles are viewer < operator < admin. Errors are `{ "error": { "code", "message" } }`.',
    },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
