import { z } from 'zod';
import type { AnyDefinition, Engine } from '../../engine/runtime/engine.js';
import type { FlowDefinition } from '../../engine/flow/define.js';
import type { RunKind } from '../../engine/types.js';
import { DefinitionNotFoundError } from '../../errors.js';
import { defineRoute, type RouteModule } from '../route.js';
import { nameParam, requireLane, runSchema, toRunView, type RunPager } from './lanes.js';

/**
 * Flows (DAGs) and workflows as registered with the engine: their definitions, the flow graph drawn
 * before any run, a grid of recent runs × tasks, and starting a run. Bad parameters answer 400 with
 * the zod issues in `error.details.issues`.
 */

const nodeSchema = z.object({
  id: z.string(),
  needs: z.array(z.string()),
  triggerRule: z.string(),
  queue: z.string(),
  tags: z.array(z.string()),
  map: z.string().nullable(),
  retries: z.number(),
});
const graphSchema = z.object({ nodes: z.array(nodeSchema), edges: z.array(z.object({ from: z.string(), to: z.string() })) });
const flowSchema = z.object({ name: z.string(), description: z.string().nullable(), graph: graphSchema });
const workflowSchema = z.object({ name: z.string(), description: z.string().nullable() });

const gridRowSchema = z.object({
  run: runSchema,
  /** Task name → state of its journal entry (a mapped task: the worst of its items). */
  tasks: z.record(z.string(), z.string()),
});

const nameParams = z.object({ name: nameParam });
const startBody = z.object({ params: z.unknown().optional() }).strict();
const startResponse = { status: 201 as const, schema: z.object({ runId: z.string(), created: z.boolean() }) };

// Worst first: a mapped task shows the state of its least finished or failed item.
const STATE_RANK = ['Failed', 'TimedOut', 'Crashed', 'Cancelled', 'Running', 'Retrying', 'Waiting', 'Pending', 'Scheduled', 'Skipped', 'Completed'];
const worse = (a: string, b: string): string => ((STATE_RANK.indexOf(a) + 100) % 100 <= (STATE_RANK.indexOf(b) + 100) % 100 ? a : b);

function find(engine: Engine, name: string, kind: RunKind): AnyDefinition {
  const definition = engine.definitions().find((d) => d.name === name && d.kind === kind);
  if (definition === undefined) {
    throw new DefinitionNotFoundError(`No ${kind} named '${name}' is registered with this server; GET /api/${kind}s lists them.`, { details: { name, kind } });
  }
  return definition;
}

function flowView(definition: FlowDefinition<unknown>): z.input<typeof flowSchema> {
  const graph = definition.graph();
  return { name: definition.name, description: definition.description ?? null, graph: { nodes: graph.nodes, edges: graph.edges } };
}

export function flowsRoutes(options: { engine: Engine | undefined; runs?: RunPager | undefined }): RouteModule {
  const lane = (): Engine => requireLane(options.engine, 'flow and workflow engine');
  return {
    name: 'flows',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/flows',
        access: 'viewer',
        summary: 'Registered flows with their task graph (nodes and edges).',
        tags: ['flows'],
        response: { schema: z.object({ flows: z.array(flowSchema) }) },
        handler: () => ({
          flows: lane()
            .definitions()
            .filter((d): d is FlowDefinition<unknown> => d.kind === 'flow')
            .map(flowView),
        }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/flows/:name',
        access: 'viewer',
        summary: 'A flow: its graph and a grid of its recent runs × task states.',
        tags: ['flows'],
        params: nameParams,
        query: z.object({ runs: z.coerce.number().int().min(1).max(100).optional().describe('Runs in the grid. Default 20.') }),
        response: { schema: flowSchema.extend({ grid: z.array(gridRowSchema) }) },
        handler: async ({ params, query }) => {
          const engine = lane();
          const definition = find(engine, params.name, 'flow') as FlowDefinition<unknown>;
          const runs = await engine.listRuns({ name: params.name, kind: 'flow', limit: query.runs ?? 20 });
          // One query for every run's step states when the store offers it (20 parallel journal reads
          // queue up on a PostgreSQL pool: p99 60 ms vs 4 ms at 1M steps, bench/results/api.md).
          const ids = runs.map((run) => run.id);
          const steps =
            options.runs?.stepStates !== undefined
              ? await options.runs.stepStates(ids)
              : (await Promise.all(ids.map(async (runId) => (await engine.repo.listSteps(runId)).map((step) => ({ runId, key: step.key, state: step.state }))))).flat();
          const tasksOf = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
          for (const step of steps) {
            const tasks = tasksOf.get(step.runId);
            if (tasks === undefined) continue;
            const task = step.key.replace(/\[\d+\]$/, '');
            const previous = tasks[task];
            tasks[task] = previous === undefined ? step.state : worse(previous, step.state);
          }
          const grid = runs.map((run) => ({ run: toRunView(run), tasks: tasksOf.get(run.id) ?? {} }));
          return { ...flowView(definition), grid };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/flows/:name/runs',
        access: 'operator',
        summary: 'Start a flow run with parameters (validated by the flow’s schema; issues → 400).',
        tags: ['flows'],
        params: nameParams,
        body: startBody,
        response: startResponse,
        handler: async ({ params, body }) => {
          const engine = lane();
          find(engine, params.name, 'flow');
          return engine.run(params.name, body.params ?? {});
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/workflows',
        access: 'viewer',
        summary: 'Registered workflows.',
        tags: ['workflows'],
        response: { schema: z.object({ workflows: z.array(workflowSchema) }) },
        handler: () => ({
          workflows: lane()
            .definitions()
            .filter((d) => d.kind === 'workflow')
            .map((d) => ({ name: d.name, description: d.description ?? null })),
        }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/workflows/:name',
        access: 'viewer',
        summary: 'A workflow and its recent runs.',
        tags: ['workflows'],
        params: nameParams,
        response: { schema: workflowSchema.extend({ runs: z.array(runSchema) }) },
        handler: async ({ params }) => {
          const engine = lane();
          const definition = find(engine, params.name, 'workflow');
          const runs = await engine.listRuns({ name: params.name, kind: 'workflow', limit: 20 });
          return { name: definition.name, description: definition.description ?? null, runs: runs.map(toRunView) };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/workflows/:name/runs',
        access: 'operator',
        summary: 'Start a workflow run with an input (validated by the workflow’s schema; issues → 400).',
        tags: ['workflows'],
        params: nameParams,
        body: z.object({ input: z.unknown().optional() }).strict(),
        response: startResponse,
        handler: async ({ params, body }) => {
          const engine = lane();
          find(engine, params.name, 'workflow');
          return engine.run(params.name, body.input);
        },
      }),
    ],
  };
}
