import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'kairos-queue-cli-'));
const db = join(dir, 'kairos.db');
after(() => rmSync(dir, { recursive: true, force: true }));

function kairos(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('kairos enqueue / worker / dlq (sqlite)', () => {
  const common = ['--provider', 'sqlite', '--db', db, '--queue', 'ops'];

  it('enqueues, runs with a handlers module, dead-letters a failure, then lists, shows, replays and purges it', () => {
    const handlers = join(dir, 'handlers.mjs');
    writeFileSync(handlers, `export const handlers = { 'backup.run': (payload) => ({ backedUp: payload.repos.length }) };\n`);

    const ok = kairos('enqueue', 'backup.run', ...common, '--context', '{"repos":["/a","/b"]}', '--json');
    assert.equal(ok.status, 0, ok.stderr);
    const queued = JSON.parse(ok.stdout) as { workflow: string; runId: string; queueProvider: string };
    assert.equal(queued.workflow, 'backup.run');
    assert.equal(queued.queueProvider, 'sqlite');

    const bad = kairos('enqueue', 'kairos.fail', ...common, '--context', '{"message":"disk full"}', '--max-attempts', '1', '--json');
    assert.equal(bad.status, 0, bad.stderr);
    const badId = (JSON.parse(bad.stdout) as { runId: string }).runId;

    const worker = kairos('worker', ...common, '--handlers', handlers, '--concurrency', '2', '--max-jobs', '2', '--json');
    assert.equal(worker.status, 0, worker.stderr);
    const events = worker.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; id?: string; error?: string });
    assert.ok(events.some((e) => e.event === 'job_completed' && e.id === queued.runId));
    assert.ok(events.some((e) => e.event === 'job_dead' && e.id === badId && e.error === 'disk full'));

    const ls = kairos('dlq', 'ls', ...common, '--json');
    assert.equal(ls.status, 0, ls.stderr);
    const letters = JSON.parse(ls.stdout) as { job: { id: string }; error: string }[];
    assert.deepEqual(letters.map((l) => l.job.id), [badId]);
    assert.match(letters[0]!.error, /disk full/);

    const show = kairos('dlq', 'show', ...common, '--id', badId);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /disk full/);
    assert.match(show.stdout, /"message":"disk full"/);

    assert.deepEqual(JSON.parse(kairos('dlq', 'replay', ...common, '--id', badId, '--json').stdout), { replayed: 1 });
    const again = kairos('worker', ...common, '--max-jobs', '1', '--json');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /job_dead/);
    assert.deepEqual(JSON.parse(kairos('dlq', 'purge', ...common, '--json').stdout), { purged: 1 });
    assert.match(kairos('dlq', 'ls', ...common).stdout, /no dead letters in ops/);
  });

  it('delays a job with --at', () => {
    const at = new Date(Date.now() + 60_000).toISOString();
    const out = kairos('enqueue', 'kairos.echo', ...common, '--queue', 'later', '--at', at, '--json');
    assert.equal(out.status, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { scheduledFor: string }).scheduledFor, at);
  });

  it('fails clearly on an unknown provider, bad JSON and an unknown dlq action', () => {
    const unknown = kairos('enqueue', 'x', '--provider', 'sqs', '--db', db);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown queue provider 'sqs'.*sqlite, postgres, redis/);
    assert.match(unknown.stderr, /KAIROS_UNKNOWN_PROVIDER/);
    const json = kairos('enqueue', 'x', ...common, '--context', '{nope');
    assert.equal(json.status, 2);
    assert.match(json.stderr, /--context is not valid JSON/);
    const action = kairos('dlq', 'drop', ...common);
    assert.equal(action.status, 2);
    assert.match(action.stderr, /Unknown dlq action 'drop'/);
  });
});
