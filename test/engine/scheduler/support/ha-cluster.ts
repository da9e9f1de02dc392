import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A scheduler child process and what it last said about leadership. */
export interface SchedulerChild {
  id: string;
  child: ChildProcess;
  leader: boolean;
  /** When (wall clock) this process became leader, each time it did. */
  acquiredAtMs: number[];
  ready: Promise<void>;
  exited: Promise<void>;
}

const script = new URL('./ha-process.ts', import.meta.url).pathname;

export function spawnScheduler(url: string, schema: string, id: string, leaderPollMs: number): SchedulerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, schema, id, String(leaderPollMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let markReady: () => void = () => undefined;
  const handle: SchedulerChild = {
    id,
    child,
    leader: false,
    acquiredAtMs: [],
    ready: new Promise((resolve) => (markReady = resolve)),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as { ready?: boolean; leader?: boolean; atMs?: number };
    if (message.ready === true) markReady();
    if (typeof message.leader === 'boolean') handle.leader = message.leader;
    if (message.leader === true) handle.acquiredAtMs.push(message.atMs ?? Date.now());
  });
  return handle;
}

export async function stopScheduler(handle: SchedulerChild, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (handle.child.exitCode === null && handle.child.signalCode === null) handle.child.kill(signal);
  await handle.exited;
}
