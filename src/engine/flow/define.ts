import type { ZodType } from 'zod';
import { ConfigError, InvalidFlowError, InvalidParametersError } from '../../errors.js';
import { validateRetryPolicy, type RetryPolicy } from '../runtime/attempts.js';
import type { StepLogger } from '../types.js';
import { assertTriggerRule, type TriggerRule } from './trigger-rules.js';

/** Flow parameters as tasks see them; give `task<MyParams>()` a type to narrow it. */
export type FlowParams = Readonly<Record<string, unknown>>;

/** What a task's `run` receives besides its upstream outputs. */
export interface TaskContext<P = FlowParams> {
  readonly runId: string;
  readonly flowName: string;
  readonly taskName: string;
  /** The journal key: the task name, or `name[i]` for item i of a mapped task. */
  readonly stepKey: string;
  /** The run's parameters, validated by the flow's schema. */
  readonly params: P;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** For a mapped task: the index of this item; otherwise null. */
  readonly mapIndex: number | null;
  /** Fires when the run is cancelled, the task times out, or the worker shuts down. */
  readonly signal: AbortSignal;
  readonly log: StepLogger;
}

/** The input a cache key is computed from. */
export interface TaskCacheInput<P = FlowParams> {
  params: P;
  upstream: Readonly<Record<string, unknown>>;
  task: string;
  mapIndex: number | null;
}

// Methods (not function-typed properties) on purpose: a task returning `number` must fit a
// `Record<string, TaskDefinition>` whose output type is `unknown`.
export interface TaskOptions<P = FlowParams, T = unknown> {
  /** Only for the array form of `tasks`; in the object form the key is the name. */
  name?: string;
  /** Upstream task names. Default: none (a root task). */
  needs?: readonly string[];
  /** The work. `upstream` maps each needed task to its output (undefined if it did not succeed). */
  run(ctx: TaskContext<P>, upstream: Readonly<Record<string, unknown>>): Promise<T> | T;
  /** When the task runs given its upstreams' outcomes. Default 'all_success'. */
  triggerRule?: TriggerRule;
  /** Default: no retries. */
  retries?: RetryPolicy;
  /** Per attempt. Default: none. A timed-out task ends TimedOut (a failure for trigger rules). */
  timeoutMs?: number;
  /**
   * Reuse a previous run's result when `key(input)` matches and has not expired (Prefect's
   * `cache_key_fn` + `cache_expiration`). Keys are scoped by flow and task name.
   */
  cache?: { key: (input: TaskCacheInput<P>) => string; /** Default: never expires. */ expiresInMs?: number };
  /** The worker queue the task needs (e.g. 'gpu'). Default 'default'. */
  queue?: string;
  /** Tags, limited by the flow's `tagConcurrency`. */
  tags?: readonly string[];
  /**
   * Fan-out: the name of an upstream task (in `needs`) whose output is an array. The task runs once
   * per item (journal keys `name[0]`, `name[1]`…), seeing that item as `upstream[map]`; its output
   * is the list of the items' outputs, in order, which downstream tasks receive (fan-in).
   */
  map?: string;
  /** Called after success. Errors thrown here are logged, never fail the task. */
  onSuccess?(ctx: TaskContext<P>, output: T): unknown;
  /** Called when the task has failed for good (after its retries). */
  onFailure?(ctx: TaskContext<P>, error: unknown): unknown;
  /** Called before each retry with the delay that follows. */
  onRetry?(ctx: TaskContext<P>, error: unknown, delayMs: number): unknown;
}

export interface TaskDefinition<P = FlowParams, T = unknown> extends TaskOptions<P, T> {
  readonly kind: 'task';
}

/** Declares a task. Validation happens when the flow is defined, where the whole graph is known. */
export function task<P = FlowParams, T = unknown>(options: TaskOptions<P, T>): TaskDefinition<P, T> {
  return { ...options, kind: 'task' };
}

export interface FlowOptions<P = FlowParams> {
  /** A zod schema for the run parameters; a run with bad parameters is rejected. Default: any object. */
  params?: ZodType<P>;
  /** The tasks, by name (object form) or as a list of `task({ name, … })` (array form). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- task outputs differ per task
  tasks: Readonly<Record<string, TaskDefinition<P, any>>> | ReadonlyArray<TaskDefinition<P, any>>;
  /** How many tasks (mapped items included) of one run execute at once. Default 16. */
  concurrency?: number;
  /** Per tag, how many tasks carrying it execute at once within one run. Default: no limit. */
  tagConcurrency?: Readonly<Record<string, number>>;
  description?: string;
}

export interface FlowGraphNode {
  id: string;
  needs: string[];
  triggerRule: TriggerRule;
  queue: string;
  tags: string[];
  map: string | null;
  retries: number;
}

/** The DAG, available before any run, for the UI and the CLI. */
export interface FlowGraph {
  name: string;
  nodes: FlowGraphNode[];
  edges: Array<{ from: string; to: string }>;
}

export interface FlowDefinition<P = FlowParams> {
  readonly kind: 'flow';
  readonly name: string;
  readonly description: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- task outputs differ per task
  readonly tasks: ReadonlyMap<string, TaskDefinition<P, any>>;
  /** Task names in a topological order (upstreams first). */
  readonly order: readonly string[];
  /** Task name → the tasks that need it. */
  readonly downstream: ReadonlyMap<string, readonly string[]>;
  readonly concurrency: number;
  readonly tagConcurrency: Readonly<Record<string, number>>;
  graph(): FlowGraph;
  /** Validates raw parameters; throws InvalidParametersError with the zod issues. */
  parseParams(raw: unknown): P;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;

export function assertName(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || !NAME.test(value) || value.length > 200) {
    throw new InvalidFlowError(`${field}: '${String(value)}' is not a valid name; use letters, digits and _ . : / - (not starting with a symbol).`, {
      details: { field, value: String(value) },
    });
  }
}

/**
 * Defines a flow: a DAG of tasks, validated now — an unknown dependency, a duplicate task name or a
 * cycle throws InvalidFlowError naming it, so a broken flow never reaches a worker.
 */
export function flow<P = FlowParams>(name: string, options: FlowOptions<P>): FlowDefinition<P> {
  assertName(name, 'flow name');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see FlowOptions.tasks
  const tasks = new Map<string, TaskDefinition<P, any>>();
  if (Array.isArray(options.tasks)) {
    for (const [i, definition] of (options.tasks as ReadonlyArray<TaskDefinition<P>>).entries()) {
      if (definition.name === undefined) throw new InvalidFlowError(`flow '${name}': task #${i} has no name; give each task in the array a name.`, { details: { flow: name, index: i } });
      if (tasks.has(definition.name))
        throw new InvalidFlowError(`flow '${name}': duplicate task name '${definition.name}'; task names must be unique.`, { details: { flow: name, task: definition.name } });
      tasks.set(definition.name, definition);
    }
  } else {
    for (const [key, definition] of Object.entries(options.tasks as Readonly<Record<string, TaskDefinition<P>>>)) {
      if (definition.name !== undefined && definition.name !== key)
        throw new InvalidFlowError(`flow '${name}': task '${key}' also names itself '${definition.name}'; drop one of the two names.`, { details: { flow: name, task: key } });
      tasks.set(key, definition);
    }
  }
  if (tasks.size === 0) throw new InvalidFlowError(`flow '${name}' has no tasks; give it at least one.`, { details: { flow: name } });

  const downstream = new Map<string, string[]>([...tasks.keys()].map((key) => [key, []]));
  for (const [taskName, definition] of tasks) {
    assertName(taskName, `flow '${name}' task name`);
    if (typeof definition.run !== 'function') throw new InvalidFlowError(`flow '${name}' task '${taskName}': run must be a function.`, { details: { flow: name, task: taskName } });
    const needs = definition.needs ?? [];
    for (const dependency of needs) {
      if (!tasks.has(dependency))
        throw new InvalidFlowError(`flow '${name}' task '${taskName}' needs '${dependency}', which is not a task of this flow (tasks: ${[...tasks.keys()].join(', ')}).`, {
          details: { flow: name, task: taskName, dependency },
        });
      if (dependency === taskName) throw new InvalidFlowError(`flow '${name}' task '${taskName}' needs itself.`, { details: { flow: name, task: taskName, cycle: [taskName, taskName] } });
      downstream.get(dependency)?.push(taskName);
    }
    if (new Set(needs).size !== needs.length) throw new InvalidFlowError(`flow '${name}' task '${taskName}' lists a dependency twice.`, { details: { flow: name, task: taskName } });
    if (definition.map !== undefined && !needs.includes(definition.map))
      throw new InvalidFlowError(`flow '${name}' task '${taskName}' maps over '${definition.map}', which must also be in its needs.`, { details: { flow: name, task: taskName, map: definition.map } });
    try {
      if (definition.triggerRule !== undefined) assertTriggerRule(definition.triggerRule, `flow '${name}' task '${taskName}' triggerRule`);
      validateRetryPolicy(definition.retries, `flow '${name}' task '${taskName}' retries`);
      if (definition.timeoutMs !== undefined && !(Number.isFinite(definition.timeoutMs) && definition.timeoutMs > 0))
        throw new ConfigError(`flow '${name}' task '${taskName}' timeoutMs must be a positive number of milliseconds.`, { details: { field: 'timeoutMs' } });
      if (definition.queue !== undefined) assertName(definition.queue, `flow '${name}' task '${taskName}' queue`);
    } catch (cause) {
      throw new InvalidFlowError(cause instanceof Error ? cause.message : String(cause), { cause, details: { flow: name, task: taskName } });
    }
  }
  const order = topologicalOrder(name, tasks);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new InvalidFlowError(`flow '${name}': concurrency must be a whole number ≥ 1, got ${String(concurrency)}.`, { details: { flow: name, field: 'concurrency' } });
  for (const [tag, limit] of Object.entries(options.tagConcurrency ?? {})) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidFlowError(`flow '${name}': tagConcurrency.${tag} must be a whole number ≥ 1.`, { details: { flow: name, field: `tagConcurrency.${tag}` } });
  }

  const schema = options.params;
  return {
    kind: 'flow',
    name,
    description: options.description,
    tasks,
    order,
    downstream,
    concurrency,
    tagConcurrency: options.tagConcurrency ?? {},
    graph: () => ({
      name,
      nodes: order.map((id) => {
        const definition = tasks.get(id) as TaskDefinition<P>;
        return {
          id,
          needs: [...(definition.needs ?? [])],
          triggerRule: definition.triggerRule ?? 'all_success',
          queue: definition.queue ?? 'default',
          tags: [...(definition.tags ?? [])],
          map: definition.map ?? null,
          retries: definition.retries?.count ?? 0,
        };
      }),
      edges: order.flatMap((id) => (tasks.get(id)?.needs ?? []).map((from) => ({ from, to: id }))),
    }),
    parseParams: (raw) => parseWithSchema(schema, raw, `flow '${name}'`),
  };
}

export function parseWithSchema<P>(schema: ZodType<P> | undefined, raw: unknown, what: string): P {
  const value = raw ?? {};
  if (schema === undefined) {
    if (typeof value !== 'object' || Array.isArray(value))
      throw new InvalidParametersError(`${what}: parameters must be an object, got ${Array.isArray(value) ? 'an array' : typeof value}.`, { details: {} });
    return value as P;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message, code: issue.code }));
    throw new InvalidParametersError(
      `${what}: invalid parameters — ${issues.map((issue) => `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`).join('; ')}.`,
      { details: { issues } },
    );
  }
  return parsed.data;
}

/** Kahn's algorithm; on a cycle, walks it to name the path (a → b → c → a). */
function topologicalOrder<P>(flowName: string, tasks: ReadonlyMap<string, TaskDefinition<P>>): string[] {
  const remaining = new Map<string, number>([...tasks].map(([key, definition]) => [key, (definition.needs ?? []).length]));
  const dependents = new Map<string, string[]>();
  for (const [key, definition] of tasks) for (const need of definition.needs ?? []) dependents.set(need, [...(dependents.get(need) ?? []), key]);
  const ready = [...remaining].filter(([, count]) => count === 0).map(([key]) => key);
  const order: string[] = [];
  while (ready.length > 0) {
    const key = ready.shift() as string;
    order.push(key);
    for (const next of dependents.get(key) ?? []) {
      const count = (remaining.get(next) ?? 0) - 1;
      remaining.set(next, count);
      if (count === 0) ready.push(next);
    }
  }
  if (order.length === tasks.size) return order;
  const path = findCycle([...remaining].filter(([, count]) => count > 0).map(([key]) => key), tasks);
  throw new InvalidFlowError(`flow '${flowName}' has a cycle: ${path.join(' → ')}. A flow must be a DAG; remove one of these dependencies.`, {
    details: { flow: flowName, cycle: path },
  });
}

function findCycle<P>(candidates: string[], tasks: ReadonlyMap<string, TaskDefinition<P>>): string[] {
  const inCycle = new Set(candidates);
  // Every task left has an unfinished dependency among the others, so following needs must loop.
  let current = candidates[0] as string;
  const seen: string[] = [];
  while (!seen.includes(current)) {
    seen.push(current);
    current = (tasks.get(current)?.needs ?? []).find((need) => inCycle.has(need)) as string;
  }
  const loop = seen.slice(seen.indexOf(current));
  return [...loop, current].reverse();
}
