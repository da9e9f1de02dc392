import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');

/** `kairos dev --port 0 --db <path>` from source; resolves once it serves. */
export async function startDevOn(dbPath: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/cli.ts'), 'dev', '--json', '--port', '0', '--db', dbPath, '--status-every', '600'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    if (port !== undefined && port !== '0') {
      const url = `http://127.0.0.1:${port}`;
      if ((await fetch(`${url}/healthz`).catch(() => null))?.ok === true) return { url, stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`kairos dev did not serve:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
startDevOn.tempStore = (): { dir: string; dbPath: string } => {
  const dir = mkdtempSync(join(tmpdir(), 'kairos-bench-ui-'));
  return { dir, dbPath: join(dir, 'runs.db') };
};

/** The system Chromium; `fresh()` gives a context with an empty cache. */
export async function launchBrowser(): Promise<{ fresh: () => Promise<BrowserContext>; close: () => Promise<void> }> {
  // launch() uses a throwaway profile of its own; each context is a separate, empty cache.
  const browser: Browser = await chromium.launch({
    executablePath: process.env.KAIROS_CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    fresh: () => browser.newContext({ viewport: { width: 1360, height: 900 } }),
    close: async () => {
      await browser.close();
    },
  };
}
