import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { JobContext } from '../../local/types.js';

/**
 * The seed's weekly security scan, kept in the local lane on purpose: it runs longer than the lane's
 * budget, so `kairos dev` shows a misfit (log line, `kairos_misfits_total`, the UI, an alert when
 * alerts are on) with the lane that would suit it. The work is real but small: it checks the dev store
 * file is not world-readable, fingerprints it, and compares the Node.js version with a minimum — in
 * slices spread over `durationMs`, yielding between slices so the event loop stays free.
 */

export interface SecurityScanOptions {
  /** The dev store file to check. */
  storePath: string;
  /** How long the scan takes (the demo's stand-in for a dependency audit). */
  durationMs: number;
}

const MIN_NODE_MAJOR = 20;
const SLICES = 10;

export interface SecurityScanResult {
  findings: string[];
  storeSha256: string | null;
  slices: number;
}

export function createSecurityScan(options: SecurityScanOptions): (ctx: JobContext) => Promise<SecurityScanResult> {
  return async (ctx) => {
    const findings: string[] = [];
    let storeSha256: string | null = null;
    try {
      const mode = statSync(options.storePath).mode;
      if ((mode & 0o004) !== 0) findings.push('store file is world-readable');
      // The first 64 KiB are enough to tell one store from another.
      storeSha256 = createHash('sha256').update(readFileSync(options.storePath).subarray(0, 65_536)).digest('hex').slice(0, 16);
    } catch {
      findings.push('store file unreadable');
    }
    const major = Number(process.versions.node.split('.')[0]);
    if (major < MIN_NODE_MAJOR) findings.push(`Node.js ${process.versions.node} is below ${MIN_NODE_MAJOR}`);
    for (let slice = 0; slice < SLICES && !ctx.signal.aborted; slice += 1) {
      await new Promise((resolve) => setTimeout(resolve, options.durationMs / SLICES));
    }
    return { findings, storeSha256, slices: SLICES };
  };
}
