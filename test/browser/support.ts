import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { recordSkip, servicesRequired } from '../support/services.js';

/**
 * What the browser tests share: the system Chromium (never a downloaded one), a `kairos dev --fast`
 * child on a free port with a temporary store, and pages that collect console errors.
 */

export const CHROMIUM_PATH = process.env.KAIROS_CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOT_DIR = join(ROOT, 'artifacts', 'screenshots');

/** false when Chromium is there; otherwise the skip reason (or a throw under KAIROS_REQUIRE_SERVICES=1). */
export function chromiumSkip(suite: string): false | string {
  if (existsSync(CHROMIUM_PATH)) return false;
  const reason = `${CHROMIUM_PATH} not found (scripts/install-observability.sh installs it)`;
  if (servicesRequired()) throw new Error(`${suite}: ${reason} (KAIROS_REQUIRE_SERVICES=1, so this fails rather than skips)`);
  recordSkip(`${suite}: ${reason}`);
  return reason;
}

/** Builds ui/dist when it is missing (a fresh clone before `npm run build`). */
export function ensureUiBuilt(): void {
  if (existsSync(join(ROOT, 'ui', 'dist', 'index.html'))) return;
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-ui.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('ui build failed (node scripts/build-ui.mjs)');
}

export interface DevServer {
  url: string;
  dir: string;
  /** Everything the child printed, for failure messages. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawns `kairos dev --fast --port 0 --db <temp>` from source and waits for its URL. */
export async function startDev(): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kairos-ui-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test', 'support', 'cli.ts'), 'dev', '--fast', '--json', '--port', '0', '--db', join(dir, 'dev.db'), '--status-every', '60'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (match !== null && match[1] !== '0') {
      const url = `http://127.0.0.1:${match[1]}`;
      try {
        const health = await fetch(`${url}/healthz`);
        if (health.ok) return { url, dir, output: () => output, stop };
      } catch {
        // Not listening yet.
      }
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`kairos dev exited with ${child.exitCode}:\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kairos dev did not serve within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A fresh Chromium profile in a temp dir, with the flags that keep it off the network. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'kairos-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A page that records console errors, uncaught exceptions and failed requests. */
export async function openPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    // Streams and fetches cut short by navigation are expected; anything else is a problem.
    const failure = request.failure()?.errorText ?? '';
    if (!failure.includes('ERR_ABORTED')) problems.push(`request failed: ${request.method()} ${request.url()} ${failure}`);
  });
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** GET an API path from the test (anonymous on loopback, like the page). */
export async function apiGet<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
