import { appendFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

/**
 * Real servers the provider tests talk to, at their default ports on 127.0.0.1. A plain `npm test`
 * on a machine without one skips that suite and names it; `.ci/run` sets KAIROS_REQUIRE_SERVICES=1,
 * under which an unreachable server fails the run instead.
 */
export const SERVICES = {
  postgres: { host: '127.0.0.1', port: 5432, url: process.env.KAIROS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  redis: { host: '127.0.0.1', port: 6379, url: process.env.KAIROS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  nats: { host: '127.0.0.1', port: 4222, url: process.env.KAIROS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222' },
  rabbitmq: { host: '127.0.0.1', port: 5672, url: process.env.KAIROS_TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672' },
} as const;
export type ServiceName = keyof typeof SERVICES;

function reachable(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

export function servicesRequired(): boolean {
  return process.env.KAIROS_REQUIRE_SERVICES === '1';
}

/**
 * Resolves to `false` (run the suite) when the server answers. When it does not: throws under
 * KAIROS_REQUIRE_SERVICES=1, otherwise records the skip and resolves to a reason string for
 * `describe(name, { skip })`.
 */
export async function serviceSkip(name: ServiceName, suite: string): Promise<false | string> {
  const { host, port } = SERVICES[name];
  if (await reachable(host, port)) return false;
  const reason = `${name} not reachable at ${host}:${port}`;
  if (servicesRequired()) throw new Error(`${suite}: ${reason} (KAIROS_REQUIRE_SERVICES=1, so this fails rather than skips)`);
  recordSkip(`${suite}: ${reason}`);
  return reason;
}

/** Records a skip for the end-of-run summary (for suites skipped for reasons other than a server). */
export function recordSkip(line: string): void {
  const dir = process.env.KAIROS_SKIP_LOG_DIR;
  if (dir !== undefined) appendFileSync(join(dir, 'skipped.log'), `${line}\n`);
}
