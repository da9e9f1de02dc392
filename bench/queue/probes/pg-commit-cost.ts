/** Probe: what one autocommitted statement costs on this PostgreSQL — plain insert, insert + pg_notify, with and without a listener. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
const url = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `kprobe_${randomUUID().slice(0, 6)}`;
const pool = new pg.Pool({ connectionString: url, max: 4 });
await pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (id text primary key, v text)`);
const n = 1000;
async function time(label: string, sql: (i: number) => [string, unknown[]]): Promise<void> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await pool.query(...sql(i));
  console.log(label.padEnd(40), ((performance.now() - t) / n).toFixed(3), 'ms/statement');
}
console.log('synchronous_commit =', (await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit, '; fsync =', (await pool.query('SHOW fsync')).rows[0].fsync);
await time('SELECT 1', () => ['SELECT 1', []]);
await time('INSERT', (i) => [`INSERT INTO ${schema}.t VALUES ($1, 'x')`, [`a${i}`]]);
await time('INSERT + pg_notify, nobody listening', (i) => [`WITH x AS (INSERT INTO ${schema}.t VALUES ($1, 'x') RETURNING id) SELECT pg_notify('c_${schema}', id) FROM x`, [`b${i}`]]);
const listener = new pg.Client({ connectionString: url });
await listener.connect();
await listener.query(`LISTEN c_${schema}`);
await time('INSERT + pg_notify, one listener', (i) => [`WITH x AS (INSERT INTO ${schema}.t VALUES ($1, 'x') RETURNING id) SELECT pg_notify('c_${schema}', id) FROM x`, [`c${i}`]]);
await time('INSERT, one listener elsewhere', (i) => [`INSERT INTO ${schema}.t VALUES ($1, 'x')`, [`d${i}`]]);
await listener.end();
await pool.query(`DROP SCHEMA ${schema} CASCADE`);
await pool.end();
