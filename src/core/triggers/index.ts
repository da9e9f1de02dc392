/** Triggers: when things fire. Pure functions of time — no timers, no clock, no I/O. */
export type { Trigger, TriggerSpec } from './trigger.js';
export { cronTrigger, toCronerPattern, type CronTriggerOptions } from './cron.js';
export { intervalTrigger, type IntervalTriggerOptions } from './interval.js';
export { dateTrigger } from './date.js';
export { andTrigger, orTrigger, AND_TRIGGER_MAX_ROUNDS } from './combine.js';
export { applyJitter } from './jitter.js';
export { triggerFromSpec } from './spec.js';
export {
  triggerFromApschedulerFields,
  APSCHEDULER_TRIGGER_FIELDS,
  type ApschedulerTriggerKind,
} from './apscheduler.js';
export { apschedulerCronExpression, APSCHEDULER_CRON_FIELDS, type ApschedulerCronField } from './apscheduler-cron.js';
export { createZone, assertTimezone, type Zone, type WallResolution } from './zone.js';
export { parseInstant } from './instant.js';
