/** Kairos — the public API. Named exports only. */
export {
  KairosError,
  ErrorCode,
  ConfigError,
  InvalidCronError,
  InvalidDurationError,
  InvalidDateError,
  InvalidTimezoneError,
  InvalidTriggerError,
  DuplicateJobError,
  JobNotFoundError,
  SchedulerStoppedError,
  TimeoutError,
  AbortedError,
  StoreError,
  MigrationError,
  UnknownProviderError,
  ProviderUnavailableError,
  PayloadTooLargeError,
  PayloadNotSerializableError,
  UnknownHandlerError,
  QueueJobNotFoundError,
  InvalidFlowError,
  InvalidParametersError,
  RunNotFoundError,
  StepOutputNotRecordableError,
  WorkflowCancelledError,
  InvalidProfileError,
} from './errors.js';
export { parseDuration, formatDuration, type Duration } from './core/duration.js';
export { systemClock, type Clock, type TimerHandle } from './core/clock.js';
export { silentLogger, type Logger } from './core/logger.js';
export { TypedEmitter } from './core/events.js';
export { RunState, Lane, isTerminal } from './core/states.js';
export { select, parseFrequency, type TaskProfile, type LaneDecision } from './core/decision-matrix.js';
export type { Trigger, TriggerSpec } from './core/triggers/trigger.js';
export type { Store, SqliteStore, PostgresStore } from './store/store.js';
export { openSqliteStore, type SqliteStoreOptions } from './store/sqlite/open.js';
export { openPostgresStore, type PostgresStoreOptions } from './store/postgres/open.js';
export {
  cronTrigger,
  intervalTrigger,
  dateTrigger,
  andTrigger,
  orTrigger,
  applyJitter,
  triggerFromSpec,
  triggerFromApschedulerFields,
  APSCHEDULER_TRIGGER_FIELDS,
  type CronTriggerOptions,
  type IntervalTriggerOptions,
  type ApschedulerTriggerKind,
} from './core/triggers/index.js';
export { LocalScheduler, createLocalScheduler, DEFAULT_STOP_DEADLINE_MS } from './local/scheduler.js';
export { JobHandle, type RunOutcome } from './local/job-handle.js';
export {
  MisfitReason,
  type JobContext,
  type JobFn,
  type JobOptions,
  type AddJobOptions,
  type JobChanges,
  type JobDefaults,
  type JobStatus,
  type JobSettings,
  type ErrorSummary,
  type LocalSchedulerOptions,
  type LocalSchedulerEvents,
  type StopReport,
} from './local/types.js';
export type { EveryOptions, CronOptions, Instant } from './local/trigger-builders.js';
export type { ScheduleInternalTaskOptions } from './local/seed-api.js';
export {
  createMetrics,
  RUN_DURATION_BUCKETS_SECONDS,
  FIRE_LATENESS_BUCKETS_SECONDS,
  type KairosMetrics,
  type MetricsOptions,
  type MetricsRecorder,
  type QueueStatsSource,
} from './metrics/metrics.js';
export {
  createAlerter,
  type Alerter,
  type AlerterOptions,
  type AlerterStats,
  type NotifyOutcome,
  type DestinationResult,
  type SlackDestination,
  type WebhookDestination,
} from './alerts/alerter.js';
export { AlertKind, type Alert } from './alerts/alert.js';
export { createServer, type KairosServer, type ServerOptions } from './server/server.js';
export { Role, defineRoute, type RouteSpec, type RouteModule, type RouteAccess, type AuthContext, type HttpMethod } from './server/route.js';
export type { AuthOptions, TokenConfig } from './server/auth.js';
export { kairosRouteModules, type ApiDependencies } from './server/api.js';
export { healthRoutes, type HealthCheck, type HealthRoutesOptions } from './server/routes/health.js';
export { metricsRoutes } from './server/routes/metrics.js';
export { explainRoutes } from './server/routes/explain.js';
export { eventsRoutes, type EventsRoutesOptions, type EventsRouteModule } from './server/routes/events.js';
export type { ServerEvent, ServerEventSource } from './server/sse.js';
export { DeploymentNotFoundError } from './errors.js';
export type { RunLauncher, RunTarget, LaunchOptions, RunFinishedEvent } from './engine/deployments/launcher.js';
export { createDeployments, Deployments, type DeploymentsOptions, type DeployTarget, type TriggerNowOptions } from './engine/deployments/deployments.js';
export type { DeployOptions, ScheduleInput, EventTriggerInput } from './engine/deployments/options.js';
export {
  OverlapPolicy,
  FireState,
  type Deployment as DeploymentRecord,
  type FireOrigin,
  type FireRecord,
  type ScheduleSpec,
  type EventTriggerSpec,
  type MetricTriggerSpec,
} from './engine/deployments/types.js';
export type { FireEvent, FireOutcome, DeploymentEventMap } from './engine/deployments/firing.js';
export type { BackfillOptions, BackfillProgress, BackfillResult } from './engine/deployments/backfill.js';
export { rruleTrigger, type RRuleSpec, type RRuleTriggerOptions } from './core/triggers/rrule.js';
export { Deployment, CronSchedule, IntervalSchedule, RRuleSchedule, type DeploymentBuildOptions } from './engine/deployments/seed.js';
export { createScheduler, DeploymentScheduler, type SchedulerOptions } from './engine/scheduler/scheduler.js';
export { advisoryLockLeader, alwaysLeader, type LeaderElector, type AdvisoryLockOptions } from './engine/scheduler/leader.js';
export { createEventBus, EventBus, type EventBusOptions, type EmitResult, type MetricResult } from './engine/events/event-bus.js';
export { metricTrigger, type MetricTriggerOptions } from './engine/events/metric-trigger.js';
export type { StoredEvent } from './engine/events/repository.js';
export {
  createMaintenanceJobs,
  registerMaintenanceJobs,
  LruCache,
  type MaintenanceJobs,
  type MaintenanceJobsOptions,
  type RegisterMaintenanceOptions,
} from './local/maintenance.js';
export { InvalidRunStateError } from './errors.js';
export { createEngine, Engine, type EngineOptions, type RunOptions, type AnyDefinition } from './engine/runtime/engine.js';
export {
  flow,
  task,
  type FlowDefinition,
  type FlowOptions,
  type FlowParams,
  type FlowGraph,
  type FlowGraphNode,
  type TaskDefinition,
  type TaskOptions,
  type TaskContext,
  type TaskCacheInput,
} from './engine/flow/define.js';
export { TriggerRule, evaluateTriggerRule, type TaskOutcome, type RuleDecision } from './engine/flow/trigger-rules.js';
export {
  workflow,
  type WorkflowDefinition,
  type WorkflowOptions,
  type WorkflowContext,
  type StepContext,
  type StepOptions,
  type WaitForEventOptions,
  type ChildHandle,
} from './engine/workflow/define.js';
export type { RetryPolicy } from './engine/runtime/attempts.js';
export {
  RunKind,
  StepKind,
  type RunRecord,
  type StepRecord,
  type RunEventRecord,
  type RunFilter,
  type RecordedError,
  type EngineEvents,
  type StepLogger,
  type LogLevel,
} from './engine/types.js';
export { DEFAULT_MAX_RECORD_BYTES } from './engine/journal/recordable.js';
export {
  PROVIDER_NAMES,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type ProviderName,
  type QueueProvider,
  type ProviderCapabilities,
  type NewJob,
  type Job,
  type JobState,
  type Lease,
  type BackoffPolicy,
  type EnqueueResult,
  type FetchOptions,
  type DeadLetter,
  type QueueStats,
  type HealthReport,
  type HeldJobStore,
  type HeldJob,
} from './queue/contract.js';
export {
  createQueueClient,
  type QueueClient,
  type QueueClientOptions,
  type QueueHandle,
  type JobOptions as QueueJobOptions,
  type BulkJob,
  type AddResult,
  type EnqueueWorkflowOptions,
  type EnqueueWorkflowResult,
} from './queue/client.js';
export { createQueueWorker, QueueWorker, type QueueWorkerOptions, type QueueWorkerEvents } from './queue/worker.js';
export { createHandlerRegistry, type HandlerRegistry, type JobHandler, type JobContext as QueueJobContext } from './queue/handlers.js';
export { DEFAULT_BACKOFF, backoffDelayMs } from './queue/backoff.js';
export { checkPayload } from './queue/payload.js';
export { DelayDispatcher, type DelayDispatcherOptions } from './queue/delay-dispatcher.js';
export { createHeldJobStore, type HeldJobStoreOptions } from './queue/held/index.js';
export { createProvider, type CreateProviderOptions } from './queue/providers/index.js';
export { createSqliteProvider, type SqliteProviderOptions } from './queue/providers/sqlite.js';
export { createPostgresProvider, type PostgresProviderOptions } from './queue/providers/postgres.js';
export { openQueueConnection, type QueueConnectionSettings, type QueueConnection } from './queue/providers/from-config.js';
export { createRedisProvider, type RedisProviderOptions } from './queue/providers/redis.js';
export { createNatsProvider, type NatsProviderOptions } from './queue/providers/nats.js';
export { createRabbitmqProvider, type RabbitmqProviderOptions } from './queue/providers/rabbitmq.js';
export { createBrokerLedger, type BrokerLedger, type DedupClaim } from './queue/ledger/index.js';
export type { ConnectRetryOptions } from './queue/providers/broker/connect.js';
export { DefinitionNotFoundError, QueueNotFoundError } from './errors.js';
export { createKairos, Kairos, DEFAULT_APP_STOP_DEADLINE_MS } from './app/kairos.js';
export type { KairosOptions, KairosQueueOptions, KairosEngineOptions, KairosSchedulerOptions, KairosHttpOptions } from './app/options.js';
export { LiveEventHub } from './app/live-events.js';
export type { LaneApis, QueueLaneView, RunPager, RunPageRequest, Overview, WorkersView } from './server/routes/lanes.js';
export { createKafkaProvider, type KafkaProviderOptions } from './queue/providers/kafka.js';
export { createCloudTasksProvider, type CloudTasksProvider, type CloudTasksProviderOptions } from './queue/providers/cloudtasks.js';
export { createCloudTasksReceiver, CloudTasksReceiver, type CloudTasksReceiverOptions } from './queue/providers/cloudtasks/receiver.js';
