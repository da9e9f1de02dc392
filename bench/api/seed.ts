import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/store.js';

/**
 * Bulk-loads finished flow/workflow runs and their journal (step rows) straight into a store, for
 * the API and UI benchmarks: this measures reading, not the engine. SQLite: one prepared INSERT in
 * one transaction. PostgreSQL: multi-row `INSERT … SELECT * FROM unnest($1::text[], …)` batches in
 * one transaction (one round trip per 5 000 rows).
 */

export interface SeedOptions {
  runs: number;
  stepsPerRun: number;
  /** Runs are spread evenly over this window ending now. */
  spanMs: number;
  /** The flow whose runs carry these task names (for the /api/flows/:name grid). */
  gridFlow: { name: string; tasks: readonly string[] };
}

export interface SeedResult {
  runs: number;
  steps: number;
  ms: number;
}

const STATES = ['Completed', 'Completed', 'Completed', 'Completed', 'Completed', 'Completed', 'Completed', 'Completed', 'Failed', 'Cancelled', 'TimedOut', 'Crashed'];
const FLOW_NAMES = Array.from({ length: 19 }, (_, i) => `etl-${i}`);
const WORKFLOW_NAMES = Array.from({ length: 5 }, (_, i) => `wf-${i}`);

interface RunRow {
  id: string;
  kind: string;
  name: string;
  state: string;
  created: number;
  error: string | null;
}

function runRow(i: number, options: SeedOptions, nowMs: number): RunRow {
  const created = nowMs - options.spanMs + Math.floor((i * options.spanMs) / options.runs);
  // Not a multiple of the name cycles, so every name gets every state.
  const state = STATES[Math.floor(i / 3) % STATES.length] ?? 'Completed';
  const kind = i % 3 === 0 ? 'workflow' : 'flow';
  const name = kind === 'workflow' ? (WORKFLOW_NAMES[i % WORKFLOW_NAMES.length] ?? 'wf') : i % 4 === 1 ? options.gridFlow.name : (FLOW_NAMES[i % FLOW_NAMES.length] ?? 'etl');
  return { id: randomUUID(), kind, name, state, created, error: state === 'Failed' ? JSON.stringify({ name: 'Error', message: `failure ${i}` }) : null };
}

function stepKey(run: RunRow, j: number, options: SeedOptions): string {
  // Past the flow's tasks, extra steps get keys of their own (a step key is unique per run).
  return run.name === options.gridFlow.name ? (options.gridFlow.tasks[j] ?? `step-${j}`) : `step-${j}`;
}

export async function seedRuns(store: Store, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const nowMs = Date.now();
  if (store.dialect === 'sqlite') {
    const insertRun = store.db.prepare(
      `INSERT INTO engine_runs (id, kind, name, params, state, created_ms, scheduled_ms, started_ms, ended_ms, updated_ms, error, result)
       VALUES (?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, 'null')`,
    );
    const insertStep = store.db.prepare(
      `INSERT INTO engine_steps (run_id, step_key, kind, state, attempt, input, output, started_ms, ended_ms)
       VALUES (?, ?, 'task', ?, 1, '{"rows":1000}', '{"ok":true}', ?, ?)`,
    );
    store.db.transaction(() => {
      for (let i = 0; i < options.runs; i += 1) {
        const run = runRow(i, options, nowMs);
        insertRun.run(run.id, run.kind, run.name, run.state, run.created, run.created, run.created + 5, run.created + 400, run.created + 400, run.error);
        for (let j = 0; j < options.stepsPerRun; j += 1) {
          insertStep.run(run.id, stepKey(run, j, options), run.state === 'Failed' && j === options.stepsPerRun - 1 ? 'Failed' : 'Completed', run.created + 5 + j * 30, run.created + 30 + j * 30);
        }
      }
    })();
  } else {
    const client = await store.pool.connect();
    try {
      await client.query('BEGIN');
      const BATCH = 5_000;
      for (let from = 0; from < options.runs; from += BATCH) {
        const runs: RunRow[] = [];
        for (let i = from; i < Math.min(options.runs, from + BATCH); i += 1) runs.push(runRow(i, options, nowMs));
        await client.query(
          `INSERT INTO engine_runs (id, kind, name, params, state, created_ms, scheduled_ms, started_ms, ended_ms, updated_ms, error, result)
           SELECT id, kind, name, '{}', state, c, c, c + 5, c + 400, c + 400, e, 'null'
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS t(id, kind, name, state, c, e)`,
          [runs.map((r) => r.id), runs.map((r) => r.kind), runs.map((r) => r.name), runs.map((r) => r.state), runs.map((r) => r.created), runs.map((r) => r.error)],
        );
        const steps = { run: [] as string[], key: [] as string[], state: [] as string[], start: [] as number[] };
        for (const run of runs) {
          for (let j = 0; j < options.stepsPerRun; j += 1) {
            steps.run.push(run.id);
            steps.key.push(stepKey(run, j, options));
            steps.state.push(run.state === 'Failed' && j === options.stepsPerRun - 1 ? 'Failed' : 'Completed');
            steps.start.push(run.created + 5 + j * 30);
          }
        }
        // 50 000 step rows per statement at 10 per run: still one round trip each.
        await client.query(
          `INSERT INTO engine_steps (run_id, step_key, kind, state, attempt, input, output, started_ms, ended_ms)
           SELECT r, k, 'task', s, 1, '{"rows":1000}', '{"ok":true}', t, t + 25
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(r, k, s, t)`,
          [steps.run, steps.key, steps.state, steps.start],
        );
      }
      await client.query('COMMIT');
      await client.query('ANALYZE engine_runs');
      await client.query('ANALYZE engine_steps');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }
  return { runs: options.runs, steps: options.runs * options.stepsPerRun, ms: performance.now() - started };
}
