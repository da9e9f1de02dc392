import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { recordSkip, servicesRequired } from '../support/services.js';

/** Where a binary is on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * `false` when one of `names` is installed (run the suite), else a skip reason — recorded for the
 * end-of-run summary — or, under KAIROS_REQUIRE_SERVICES=1, an error. scripts/install-observability.sh
 * installs them.
 */
export function binarySkip(names: readonly string[], suite: string): false | string {
  if (names.some((name) => which(name) !== null)) return false;
  const reason = `${names.join(' / ')} not installed (run scripts/install-observability.sh)`;
  if (servicesRequired()) throw new Error(`${suite}: ${reason} (KAIROS_REQUIRE_SERVICES=1, so this fails rather than skips)`);
  recordSkip(`${suite}: ${reason}`);
  return reason;
}

export function run(command: string, args: readonly string[], cwd?: string): { status: number; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept (for failure messages) and that is killed by `stop()`. */
export class Daemon {
  private readonly child: ChildProcess;
  output = '';
  private exited: Promise<void>;

  constructor(command: string, args: readonly string[]) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Resolves with the exit code (null when killed by a signal). */
  exitCode(): Promise<number | null> {
    return this.exited.then(() => this.child.exitCode);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    const killTimer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(killTimer);
  }
}

/** Polls `check` every 100 ms until it returns a value other than undefined, up to `attempts` polls. */
export async function pollFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, attempts = 300): Promise<T> {
  let lastError: unknown = null;
  for (let i = 0; i < attempts; i += 1) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}
