// Scheduler work per fire, on a fake clock: 10,000 interval jobs due at the same instant, no-op jobs,
// 50 measured passes after 10 warm-up passes. Runs against a tsc build of Kairos (the one
// `npm run bench:local` leaves in node_modules/.cache/kairos-bench, or any other build dir):
//
//   node --import tsx bench/local/per-fire.ts [build dir] [listeners]
//
// `listeners` attaches job_submitted, job_executed and onAny listeners, as metrics/app wiring does.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { createLocalScheduler as CreateLocalScheduler } from '../../src/local/scheduler.js';

const [buildDir = 'node_modules/.cache/kairos-bench', mode = 'none'] = process.argv.slice(2);
const built = (await import(pathToFileURL(resolve(buildDir, 'local/scheduler.js')).href)) as { createLocalScheduler: typeof CreateLocalScheduler };

interface FakeTimer extends TimerHandle {
  atMs: number;
  callback: () => void;
}
let nowMs = Date.UTC(2026, 0, 5, 9);
const timers: FakeTimer[] = [];
const clock: Clock = {
  now: () => nowMs,
  setTimer: (callback, delayMs) => {
    const timer: FakeTimer = { atMs: nowMs + delayMs, callback };
    timers.push(timer);
    return timer;
  },
  clearTimer: (handle) => {
    const i = timers.indexOf(handle as FakeTimer);
    if (i >= 0) timers.splice(i, 1);
  },
};

const scheduler = built.createLocalScheduler({ clock, eventLoopBlockMs: null });
if (mode === 'listeners') {
  let seen = 0;
  scheduler.events.on('job_submitted', () => void (seen += 1));
  scheduler.events.on('job_executed', () => void (seen += 1));
  scheduler.events.onAny(() => void (seen += 1));
}
const JOBS = 10_000;
for (let i = 0; i < JOBS; i += 1) scheduler.every(1_000, () => undefined, { startMs: nowMs + 1_000 });
await scheduler.start();
const WARM_UP = 10;
const PASSES = 60;
let totalNs = 0;
for (let pass = 0; pass < PASSES; pass += 1) {
  nowMs += 1_000;
  const timer = timers.shift();
  if (timer === undefined) throw new Error('no timer armed');
  const startNs = process.hrtime.bigint();
  timer.callback();
  if (pass >= WARM_UP) totalNs += Number(process.hrtime.bigint() - startNs);
}
console.log(`${mode === 'listeners' ? 'with listeners' : 'no listeners'}: ${(totalNs / ((PASSES - WARM_UP) * JOBS) / 1_000).toFixed(3)} µs of scheduler work per fire`);
await scheduler.stop();
