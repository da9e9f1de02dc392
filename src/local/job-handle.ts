import type { Trigger } from '../core/triggers/trigger.js';
import type { JobChanges, JobStatus } from './types.js';

/** The operations a handle forwards to its scheduler; `LocalScheduler` implements them. */
export interface JobOperations {
  getJob(id: string): JobStatus | undefined;
  pauseJob(id: string): JobStatus;
  resumeJob(id: string): JobStatus;
  modifyJob(id: string, changes: JobChanges): JobStatus;
  rescheduleJob(id: string, trigger: Trigger): JobStatus;
  removeJob(id: string): void;
  runJobNow(id: string): Promise<RunOutcome>;
}

/** How a run started by `runJobNow` ended. `Skipped`: `maxInstances` runs were already going. */
export interface RunOutcome {
  jobId: string;
  state: 'Completed' | 'Failed' | 'TimedOut' | 'Cancelled' | 'Skipped';
  result: unknown;
  error: Error | null;
  durationMs: number;
}

/** What `addJob`, `every`, `cron`, `at` and `scheduleInternalTask` return: the job's id and shortcuts. */
export class JobHandle {
  constructor(
    readonly id: string,
    private readonly scheduler: JobOperations,
  ) {}

  /** The job's current status, or undefined once it has been removed (or finished). */
  status(): JobStatus | undefined {
    return this.scheduler.getJob(this.id);
  }

  pause(): JobStatus {
    return this.scheduler.pauseJob(this.id);
  }

  resume(): JobStatus {
    return this.scheduler.resumeJob(this.id);
  }

  modify(changes: JobChanges): JobStatus {
    return this.scheduler.modifyJob(this.id, changes);
  }

  reschedule(trigger: Trigger): JobStatus {
    return this.scheduler.rescheduleJob(this.id, trigger);
  }

  remove(): void {
    this.scheduler.removeJob(this.id);
  }

  runNow(): Promise<RunOutcome> {
    return this.scheduler.runJobNow(this.id);
  }
}
