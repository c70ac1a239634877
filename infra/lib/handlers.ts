/**
 * The Lambda entry points the infrastructure deploys, and the environment
 * variable names through which it tells them where their resources are.
 *
 * The handlers live in functions/handlers/ and are thin adapters over the use
 * cases; the infrastructure refers to them only by path, never by import, so
 * that aws-cdk-lib never reaches the runtime code and the runtime code never
 * reaches aws-cdk-lib. Keeping every path and every variable name in this one
 * table means a renamed handler or variable breaks synthesis in one place.
 */

/** Entry file of each Lambda handler, relative to the repository root. */
export const HANDLER_ENTRIES = {
  graphql: 'functions/handlers/graphql.ts',
  authorizer: 'functions/handlers/authorizer.ts',
  wsConnect: 'functions/handlers/ws-connect.ts',
  wsDisconnect: 'functions/handlers/ws-disconnect.ts',
  wsMessage: 'functions/handlers/ws-message.ts',
  wsPublisher: 'functions/handlers/ws-publisher.ts',
  stylizeDispatcher: 'functions/handlers/stylize-dispatcher.ts',
  jobDispatch: 'functions/handlers/job-dispatch.ts',
  dropIntake: 'functions/handlers/drop-intake.ts',
  trainingLauncher: 'functions/handlers/training-launcher.ts',
  trainingEvents: 'functions/handlers/training-events.ts',
  batchEvents: 'functions/handlers/batch-events.ts',
} as const;

/** The name of one deployed handler; a key of {@link HANDLER_ENTRIES}. */
export type HandlerName = keyof typeof HANDLER_ENTRIES;

/**
 * Environment variables set on the functions and containers. The runtime's
 * configuration module reads these names; the values are resource names and
 * ARNs known only at deploy time.
 */
export const ENV = {
  uploadsBucket: 'PEERSTYLE_UPLOADS_BUCKET',
  resultsBucket: 'PEERSTYLE_RESULTS_BUCKET',
  modelsBucket: 'PEERSTYLE_MODELS_BUCKET',
  datasetsBucket: 'PEERSTYLE_DATASETS_BUCKET',
  jobsTable: 'PEERSTYLE_JOBS_TABLE',
  jobsByOwnerIndex: 'PEERSTYLE_JOBS_BY_OWNER_INDEX',
  apiKeysTable: 'PEERSTYLE_API_KEYS_TABLE',
  catalogTable: 'PEERSTYLE_CATALOG_TABLE',
  rateLimitsTable: 'PEERSTYLE_RATE_LIMITS_TABLE',
  requestsPerMinute: 'PEERSTYLE_REQUESTS_PER_MINUTE',
  requestsPerSecond: 'PEERSTYLE_REQUESTS_PER_SECOND',
  stylizeQueueUrl: 'PEERSTYLE_STYLIZE_QUEUE_URL',
  connectionsTable: 'PEERSTYLE_WS_CONNECTIONS_TABLE',
  subscriptionsTable: 'PEERSTYLE_WS_SUBSCRIPTIONS_TABLE',
  subscriptionsByTopicIndex: 'PEERSTYLE_WS_SUBSCRIPTIONS_BY_TOPIC_INDEX',
  webSocketCallbackUrl: 'PEERSTYLE_WS_CALLBACK_URL',
  batchJobQueue: 'PEERSTYLE_BATCH_JOB_QUEUE',
  batchJobDefinition: 'PEERSTYLE_BATCH_JOB_DEFINITION',
  trainingLauncherFunction: 'PEERSTYLE_TRAINING_LAUNCHER_FUNCTION',
  trainingImageUri: 'PEERSTYLE_TRAINING_IMAGE_URI',
  trainingRoleArn: 'PEERSTYLE_TRAINING_ROLE_ARN',
  trainingInstanceType: 'PEERSTYLE_TRAINING_INSTANCE_TYPE',
  trainingUseSpot: 'PEERSTYLE_TRAINING_USE_SPOT',
  trainingMaxRuntimeSeconds: 'PEERSTYLE_TRAINING_MAX_RUNTIME_SECONDS',
  trainingMaxWaitSeconds: 'PEERSTYLE_TRAINING_MAX_WAIT_SECONDS',
  trainingJobPrefix: 'PEERSTYLE_TRAINING_JOB_PREFIX',
  trainingMetricDefinitions: 'PEERSTYLE_TRAINING_METRIC_DEFINITIONS',
} as const;
