import type { Duration } from '../../core/duration.js';
import { ConfigError } from '../../errors.js';
import type { Deployments, DeployTarget } from './deployments.js';
import type { DeployOptions, ScheduleInput } from './options.js';
import type { Deployment as DeploymentRecord } from './types.js';

/**
 * A thin TypeScript mirror of the Prefect deployment API the seed uses:
 *
 *   const deployment = Deployment.build({ flow: complexEtl, name: 'complex-etl-prod',
 *     schedule: new CronSchedule({ cron: '0 6 * * 1' }), deployments });
 *   await deployment.apply();
 *
 * It builds `deployments.deploy(flow, options)` and nothing more; every option of `deploy` is
 * accepted. There is no global client: pass `deployments` to `build` or to `apply`.
 */
export class CronSchedule {
  readonly input: ScheduleInput;
  /** @param options.cron a crontab expression; options.timezone an IANA zone (default 'UTC'). */
  constructor(options: { cron: string; timezone?: string }) {
    this.input = { cron: options.cron, timezone: options.timezone };
  }
}

export class IntervalSchedule {
  readonly input: ScheduleInput;
  /** @param options.interval seconds (Prefect's unit) as a number, or a duration text such as '30s'. */
  constructor(options: { interval: number | Exclude<Duration, number>; anchorDate?: Date }) {
    const every = typeof options.interval === 'number' ? options.interval * 1_000 : options.interval;
    this.input = { every, anchorMs: options.anchorDate?.getTime() };
  }
}

export class RRuleSchedule {
  readonly input: ScheduleInput;
  constructor(options: { rrule: string; timezone?: string }) {
    this.input = { rrule: options.rrule, timezone: options.timezone };
  }
}

export type SeedSchedule = CronSchedule | IntervalSchedule | RRuleSchedule;

export interface DeploymentBuildOptions extends Omit<DeployOptions, 'schedule'> {
  /** The flow or workflow: a definition with `kind` and `name`, or a flow's name. */
  flow: DeployTarget | string;
  schedule?: SeedSchedule | ScheduleInput;
  /** Where `apply()` stores it. May instead be passed to `apply`. */
  deployments?: Deployments;
}

export class Deployment {
  private constructor(
    readonly target: DeployTarget,
    readonly options: DeployOptions,
    private readonly deployments: Deployments | undefined,
  ) {}

  static build(options: DeploymentBuildOptions): Deployment {
    const { flow, schedule, deployments, ...rest } = options;
    const target: DeployTarget = typeof flow === 'string' ? { kind: 'flow', name: flow } : flow;
    const input = schedule === undefined ? undefined : 'input' in schedule ? schedule.input : schedule;
    return new Deployment(target, { ...rest, ...(input === undefined ? {} : { schedule: input }) }, deployments);
  }

  /** Creates or updates the deployment (validated in full first). */
  apply(deployments: Deployments | undefined = this.deployments): Promise<DeploymentRecord> {
    if (deployments === undefined) {
      throw new ConfigError('Deployment.apply: no deployments API given; pass it to Deployment.build({ deployments }) or apply(deployments).', {
        details: { field: 'deployments' },
      });
    }
    return deployments.deploy(this.target, this.options);
  }
}
