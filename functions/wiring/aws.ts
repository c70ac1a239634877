/**
 * The AWS composition root: every adapter the Lambda functions and the stylize worker container use is
 * built here, from the settings the CDK stack sets (read through `handlers/support/handler-env.ts`).
 * Builders take the environment to read as their last argument (tests give their own); left out, it is
 * handed on as undefined and handler-env.ts reads the process's.
 *
 * Each adapter has one builder, and each entry point asks only for the settings its function is given,
 * because each function's role grants only its own resources. Callers memoise what they build, so a
 * warm Lambda container reuses its SDK clients (and their kept-alive connections) across invocations.
 * Nothing here does work at import time, so a function's bundle keeps only the builders it calls: the
 * memoised WebSocket parts are marked pure for that, the GraphQL layer is imported for its types only
 * (the WebSocket functions build their document rules themselves), and `OnnxStylizeEngine` loads the
 * inference engine at first use, so no Lambda bundle reaches onnxruntime.
 */

// Bundled into the GraphQL function by esbuild: the built-in model's manifest as this revision ships it.
import BUNDLED_MANIFEST from '../../models/default/manifest.json';
import {
  BatchStylizeLauncher,
  createBatchClient,
  createDynamoDbDocumentClient,
  createLambdaClient,
  createS3Client,
  createSageMakerClient,
  createSqsClient,
  createWebSocketManagementClient,
  DynamoApiKeyStore,
  DynamoConnectionStore,
  DynamoJobStore,
  DynamoModelRegistry,
  DynamoRequestLimiter,
  DynamoStyleStore,
  LambdaTrainingStarter,
  RoutedBlobStore,
  S3BlobStore,
  S3DatasetStager,
  SageMakerTrainingLauncher,
  SageMakerTrainingStopper,
  SqsJobQueue,
  StreamJobEvents,
  WebSocketPublisher,
  type BlobRoute,
  type DynamoModelRegistryOptions,
  type TrainingMetricDefinition,
} from '../adapters/aws';
import {
  BLOB_PREFIXES,
  builtInModelOptions,
  DomainError,
  ErrorCode,
  systemClock,
  type ApiKeyStore,
  type JobStore,
} from '../core';
import { DEFAULT_LIMITS, type UseCaseDeps } from '../core/use-cases';
import { stopTrainingOnCancel } from '../core/use-cases/cancel-job';
import type { ExecutionProvider } from '../engine';
import type { GraphQLContext } from '../graphql';
import type { TrainingStateDeps } from '../handlers/events/apply-training-state';
import { BucketModelCatalog, DEFAULT_PACKAGE_PREFIX } from '../handlers/events/bucket-model-catalog';
import type { IntakeDeps } from '../handlers/events/intake-dropped-object';
import type { DatasetStager, TrainingRunLauncher } from '../handlers/events/launch-training';
import { BlobStyleLookup } from '../handlers/events/style-lookup';
import {
  booleanEnv,
  HANDLER_ENV,
  once,
  positiveIntegerEnv,
  readAwsServiceConfigs,
  readHandlerEnv,
  type HandlerSettings,
} from '../handlers/support/handler-env';
import type { KeyHashVerifier } from '../handlers/support/subscriber-access';
import { BlobModelCache } from '../worker/blob-model-cache';
import { OnnxStylizeEngine } from '../worker/onnx-stylize-engine';
import type { BatchRunDeps } from '../worker/run-batch-stylize-job';
import { createStylizeExecutor } from '../worker/stylize-executor';
import { TRAINER_RULES } from '../../trainer/training-rules';

// Stores and queues.

/** The jobs table. With `dispatchThroughStream` new jobs are left to the job-dispatch function (the outbox). */
export function buildJobStore(
  settings: HandlerSettings<'jobsTable', 'jobsByOwnerIndex'>,
  options: { dispatchThroughStream?: boolean } = {},
  env?: NodeJS.ProcessEnv,
): DynamoJobStore {
  return new DynamoJobStore({
    client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
    tableName: settings.jobsTable,
    ...(settings.jobsByOwnerIndex !== undefined && { ownerIndexName: settings.jobsByOwnerIndex }),
    ...options,
  });
}

/** The jobs table, for the entry points that only read and move jobs. */
export function jobStoreFromEnv(env?: NodeJS.ProcessEnv): JobStore {
  return buildJobStore(readHandlerEnv(['jobsTable'], ['jobsByOwnerIndex'], env), {}, env);
}

/** An S3 blob store over one whole bucket. */
export function buildBucketStore(bucket: string, env?: NodeJS.ProcessEnv): S3BlobStore {
  return new S3BlobStore({ client: createS3Client(readAwsServiceConfigs(env).s3), bucket });
}

/** A bucket setting a routed blob store may be given. */
type BucketSetting = 'uploadsBucket' | 'resultsBucket' | 'modelsBucket' | 'datasetsBucket';

/** A key prefix a routed blob store may serve: a key of BLOB_PREFIXES (core/blob-prefixes.ts). */
type RoutedPrefix = 'drop' | 'uploads' | 'savedStyles' | 'jobInputs' | 'styles' | 'out' | 'models' | 'datasets';

/** The bucket each prefix lives in. */
const BUCKET_OF: Readonly<Record<RoutedPrefix, BucketSetting>> = {
  drop: 'uploadsBucket',
  // createUpload's keys (`uploads/<owner>/…`) live in the same bucket as the drop folder.
  uploads: 'uploadsBucket',
  // Copies of uploads that styles and jobs rely on (frozen-uploads.ts), in the same bucket.
  savedStyles: 'uploadsBucket',
  jobInputs: 'uploadsBucket',
  // The drop folder's style images.
  styles: 'uploadsBucket',
  out: 'resultsBucket',
  models: 'modelsBucket',
  datasets: 'datasetsBucket',
};

/** The prefixes the API functions serve. */
const API_PREFIXES: readonly RoutedPrefix[] = [
  'drop',
  'uploads',
  'savedStyles',
  'jobInputs',
  'out',
  'models',
  'datasets',
];

/**
 * The prefixes the stylize worker's role may read or write. Jobs submitted through the API read copies
 * of their uploads and saved styles (frozen-uploads.ts); jobs queued before those copies existed name
 * the uploads themselves.
 */
const WORKER_PREFIXES: readonly RoutedPrefix[] = [
  'drop',
  'styles',
  'jobInputs',
  'savedStyles',
  'uploads',
  'models',
  'out',
];

/**
 * One blob store over whichever of the buckets were given, serving `prefixes`; any other key fails
 * with a message naming the prefixes served.
 */
export function buildBlobStore(
  buckets: HandlerSettings<never, BucketSetting>,
  prefixes: readonly RoutedPrefix[] = API_PREFIXES,
  env?: NodeJS.ProcessEnv,
): RoutedBlobStore {
  const s3 = createS3Client(readAwsServiceConfigs(env).s3);
  const routes: BlobRoute[] = [];
  for (const name of prefixes) {
    const bucket = buckets[BUCKET_OF[name]];
    if (bucket !== undefined)
      routes.push({ prefix: BLOB_PREFIXES[name], store: new S3BlobStore({ client: s3, bucket }) });
  }
  return new RoutedBlobStore(routes);
}

/** The stylize queue; SQS itself moves messages to the dead-letter queue by its redrive policy. */
export function buildStylizeQueue(queueUrl: string, env?: NodeJS.ProcessEnv): SqsJobQueue {
  return new SqsJobQueue({ client: createSqsClient(readAwsServiceConfigs(env).sqs), queueUrl });
}

/** The catalog table as a model registry. */
export function buildModelRegistry(
  catalogTable: string,
  options: Omit<DynamoModelRegistryOptions, 'client' | 'tableName'> = {},
  env?: NodeJS.ProcessEnv,
): DynamoModelRegistry {
  return new DynamoModelRegistry({
    client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
    tableName: catalogTable,
    ...options,
  });
}

/** The API key store on the keys table. */
export function buildApiKeyStore(
  settings: HandlerSettings<'apiKeysTable', never>,
  env?: NodeJS.ProcessEnv,
): DynamoApiKeyStore {
  return new DynamoApiKeyStore({
    client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
    tableName: settings.apiKeysTable,
  });
}

/** Requests per owner per minute when the stack sets no budget: the local server's. */
export const DEFAULT_REQUESTS_PER_MINUTE = 600;
/** Requests per owner per second when the stack sets no budget. */
export const DEFAULT_REQUESTS_PER_SECOND = 20;

/**
 * The per-owner request budget on the rate-limits table, or undefined for a function given no table
 * (a direct invoke in a test); the stack always sets one.
 */
export function buildRequestLimiter(
  settings: HandlerSettings<never, 'rateLimitsTable' | 'requestsPerMinute' | 'requestsPerSecond'>,
  env?: NodeJS.ProcessEnv,
): DynamoRequestLimiter | undefined {
  if (settings.rateLimitsTable === undefined) return undefined;
  const budget = (name: 'requestsPerMinute' | 'requestsPerSecond', fallback: number): number => {
    const value = settings[name];
    return value === undefined ? fallback : positiveIntegerEnv(name, value);
  };
  return new DynamoRequestLimiter({
    client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
    tableName: settings.rateLimitsTable,
    perMinute: budget('requestsPerMinute', DEFAULT_REQUESTS_PER_MINUTE),
    perSecond: budget('requestsPerSecond', DEFAULT_REQUESTS_PER_SECOND),
  });
}

// Launchers.

/** The stack's run name prefix ends in "-" for its IAM pattern; run names add their own separator. */
function trainingJobNamePrefix(prefix: string): string {
  return prefix.replace(/-+$/, '');
}

/** The Batch launcher the stylize dispatcher uses. */
export function batchLauncherFromEnv(env?: NodeJS.ProcessEnv): BatchStylizeLauncher {
  const { batchJobQueue, batchJobDefinition } = readHandlerEnv(['batchJobQueue', 'batchJobDefinition'], [], env);
  return new BatchStylizeLauncher({
    client: createBatchClient(),
    jobQueue: batchJobQueue,
    jobDefinition: batchJobDefinition,
  });
}

function metricDefinitions(raw: string): TrainingMetricDefinition[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const valid =
    Array.isArray(value) &&
    value.every(
      (d: unknown) =>
        typeof d === 'object' &&
        d !== null &&
        typeof (d as { Name?: unknown }).Name === 'string' &&
        typeof (d as { Regex?: unknown }).Regex === 'string',
    );
  if (!valid) {
    throw new DomainError(
      ErrorCode.INTERNAL,
      `${HANDLER_ENV.trainingMetricDefinitions} must be a JSON array of {Name, Regex}.`,
    );
  }
  return value as TrainingMetricDefinition[];
}

/** The SageMaker launcher the training launcher function uses. */
export function trainingLauncherFromEnv(env?: NodeJS.ProcessEnv): SageMakerTrainingLauncher {
  const values = readHandlerEnv(
    [
      'trainingImageUri',
      'trainingRoleArn',
      'datasetsBucket',
      'modelsBucket',
      'trainingMetricDefinitions',
      'trainingMaxRuntimeSeconds',
      'trainingMaxWaitSeconds',
      'trainingUseSpot',
      'trainingInstanceType',
      'trainingJobPrefix',
    ],
    [],
    env,
  );
  return new SageMakerTrainingLauncher({
    client: createSageMakerClient(),
    trainingImage: values.trainingImageUri,
    roleArn: values.trainingRoleArn,
    datasetsBucket: values.datasetsBucket,
    modelsBucket: values.modelsBucket,
    metricDefinitions: metricDefinitions(values.trainingMetricDefinitions),
    instanceType: values.trainingInstanceType,
    useSpot: booleanEnv('trainingUseSpot', values.trainingUseSpot),
    maxRuntimeSeconds: positiveIntegerEnv('trainingMaxRuntimeSeconds', values.trainingMaxRuntimeSeconds),
    maxWaitSeconds: positiveIntegerEnv('trainingMaxWaitSeconds', values.trainingMaxWaitSeconds),
    jobNamePrefix: trainingJobNamePrefix(values.trainingJobPrefix),
  });
}

/** Stops the SageMaker runs named `<prefix>-<job id>`. */
export function buildTrainingStopper(trainingJobPrefix: string): SageMakerTrainingStopper {
  return new SageMakerTrainingStopper({
    client: createSageMakerClient(),
    jobNamePrefix: trainingJobNamePrefix(trainingJobPrefix),
  });
}

/** The stager that copies uploaded training sets from the uploads bucket into the datasets bucket. */
export function datasetStagerFromEnv(env?: NodeJS.ProcessEnv): S3DatasetStager {
  const { uploadsBucket, datasetsBucket } = readHandlerEnv(['uploadsBucket', 'datasetsBucket'], [], env);
  return new S3DatasetStager({ client: createS3Client(readAwsServiceConfigs(env).s3), uploadsBucket, datasetsBucket });
}

// What each event-driven entry point uses.

/** What the drop-folder intake function uses. */
export function intakeDepsFromEnv(env?: NodeJS.ProcessEnv): IntakeDeps {
  const { uploadsBucket, stylizeQueueUrl } = readHandlerEnv(['uploadsBucket', 'stylizeQueueUrl'], [], env);
  const blobs = buildBucketStore(uploadsBucket, env);
  return {
    blobs,
    bucket: uploadsBucket,
    jobs: jobStoreFromEnv(env),
    // The intake only sends.
    queue: buildStylizeQueue(stylizeQueueUrl, env),
    styles: new BlobStyleLookup(blobs),
  };
}

/** Where the job-dispatch function relays new jobs: STYLIZE jobs to the queue, TRAIN jobs to the launcher. */
export function jobRunnersFromEnv(env?: NodeJS.ProcessEnv): {
  queue: SqsJobQueue;
  training: LambdaTrainingStarter;
} {
  const settings = readHandlerEnv(['stylizeQueueUrl', 'trainingLauncherFunction'], [], env);
  return {
    queue: buildStylizeQueue(settings.stylizeQueueUrl, env),
    training: new LambdaTrainingStarter({
      client: createLambdaClient(readAwsServiceConfigs(env).lambda),
      functionName: settings.trainingLauncherFunction,
    }),
  };
}

/** What the training launcher function uses. */
export function trainingLaunchDepsFromEnv(env?: NodeJS.ProcessEnv): {
  jobs: JobStore;
  events: StreamJobEvents;
  launcher: TrainingRunLauncher;
  stager: DatasetStager;
} {
  return {
    jobs: jobStoreFromEnv(env),
    events: new StreamJobEvents(),
    launcher: trainingLauncherFromEnv(env),
    stager: datasetStagerFromEnv(env),
  };
}

/**
 * What the training events function uses: the jobs table, the models bucket (artifacts in, packages
 * out) and the catalog table, where finished runs' models are registered.
 */
export function trainingStateDepsFromEnv(env?: NodeJS.ProcessEnv): TrainingStateDeps {
  const { catalogTable, modelsBucket } = readHandlerEnv(['catalogTable', 'modelsBucket'], [], env);
  return {
    jobs: jobStoreFromEnv(env),
    events: new StreamJobEvents(),
    blobs: buildBucketStore(modelsBucket, env),
    models: buildModelRegistry(catalogTable, {}, env),
  };
}

// The GraphQL function.

/** Settings the GraphQL function needs. */
export type GraphQLSettings = HandlerSettings<
  'jobsTable' | 'apiKeysTable' | 'catalogTable',
  'jobsByOwnerIndex' | 'uploadsBucket' | 'resultsBucket' | 'datasetsBucket' | 'trainingJobPrefix'
>;

/**
 * Everything the use cases need, on AWS. New jobs are only written: the job-dispatch function relays
 * each from the jobs table's stream to its runner (STYLIZE jobs onto the stylize queue, drained into
 * AWS Batch; TRAIN jobs to the training launcher function), so this function needs neither.
 */
export function buildUseCaseDeps(settings: GraphQLSettings, env?: NodeJS.ProcessEnv): UseCaseDeps {
  // Cancelling a RUNNING training must reach SageMaker, which never reads the jobs table; the stack
  // gives this function the run name prefix (and StopTrainingJob on it) for that.
  const events =
    settings.trainingJobPrefix === undefined
      ? new StreamJobEvents()
      : stopTrainingOnCancel(new StreamJobEvents(), buildTrainingStopper(settings.trainingJobPrefix));
  return {
    blobs: buildBlobStore(settings, API_PREFIXES, env),
    jobs: buildJobStore(settings, { dispatchThroughStream: true }, env),
    events,
    styles: new DynamoStyleStore({
      client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
      tableName: settings.catalogTable,
    }),
    // The built-in model is listed with its bundled manifest's name, version and date.
    models: buildModelRegistry(settings.catalogTable, builtInModelOptions(BUNDLED_MANIFEST), env),
    clock: systemClock,
    limits: DEFAULT_LIMITS,
    trainingRules: TRAINER_RULES,
  };
}

// The WebSocket functions.

/** The connections and subscriptions tables. */
export function buildConnectionStore(
  settings: HandlerSettings<'connectionsTable' | 'subscriptionsTable', 'subscriptionsByTopicIndex'>,
  env?: NodeJS.ProcessEnv,
): DynamoConnectionStore {
  return new DynamoConnectionStore({
    client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
    connectionsTable: settings.connectionsTable,
    subscriptionsTable: settings.subscriptionsTable,
    ...(settings.subscriptionsByTopicIndex !== undefined && { topicIndexName: settings.subscriptionsByTopicIndex }),
  });
}

/** The poster to the sockets of one WebSocket stage, which also closes them. */
export function buildWebSocketPublisher(callbackUrl: string, connections: DynamoConnectionStore): WebSocketPublisher {
  return new WebSocketPublisher({ client: createWebSocketManagementClient(callbackUrl), connections });
}

// What the WebSocket functions share, each built on first use and kept for the container's lifetime.
// The calls are marked pure so that bundles of the functions that never use them drop them.

/** The connections and subscriptions tables ($connect, $disconnect and the rest). */
export const wsConnectionStore = /* @__PURE__ */ once((): DynamoConnectionStore =>
  buildConnectionStore(readHandlerEnv(['connectionsTable', 'subscriptionsTable'], ['subscriptionsByTopicIndex'])),
);

/** The poster to the stage's sockets. */
export const wsPublisher = /* @__PURE__ */ once((): WebSocketPublisher =>
  buildWebSocketPublisher(readHandlerEnv(['webSocketCallbackUrl']).webSocketCallbackUrl, wsConnectionStore()),
);

/** The keys table: connection_init verifies a key, subscribe and the publisher re-verify its hash. */
export const wsApiKeys = /* @__PURE__ */ once((): ApiKeyStore & KeyHashVerifier =>
  buildApiKeyStore(readHandlerEnv(['apiKeysTable'])),
);

/** The jobs table, for the ownership check and snapshot at subscribe time. */
export const wsJobStore = /* @__PURE__ */ once((): JobStore =>
  buildJobStore(readHandlerEnv(['jobsTable'], ['jobsByOwnerIndex'])),
);

const wsEventDeps = /* @__PURE__ */ once((): UseCaseDeps => {
  const settings = readHandlerEnv([], ['resultsBucket']);
  // Rendering a JobEvent reaches only the Job field resolvers, which read blobs (for result download
  // URLs), clock and limits; the other ports are never touched by a subscription document, so they
  // are stand-ins that fail loudly if that ever changes.
  const unavailable = new Proxy({} as never, {
    get: () => {
      throw new Error('This port is not available while rendering subscription events.');
    },
  });
  return {
    blobs: buildBlobStore(settings),
    jobs: unavailable,
    queue: unavailable,
    events: new StreamJobEvents(),
    styles: unavailable,
    models: unavailable,
    clock: systemClock,
    limits: DEFAULT_LIMITS,
    trainingRules: unavailable,
  };
});

/** The context a subscription document runs in for `owner`. */
export function wsEventContext(owner: string): GraphQLContext {
  return { owner, deps: wsEventDeps() };
}

// The stylize worker container.

/** Options of the stylize worker that are not deployment facts. */
export interface WorkerSettings {
  /** Folder model packages are copied into before loading. */
  modelCacheDir: string;
  /** Threads per inference. */
  intraOpThreads: number;
  /** Where the model runs; the container asks for 'cuda'. */
  executionProvider: ExecutionProvider;
}

/**
 * The worker's one key space over its buckets: exactly the prefixes the job role may read or write;
 * any other key fails with a message naming them.
 */
export function batchWorkerBlobStore(
  buckets: { uploadsBucket: string; resultsBucket: string; modelsBucket: string },
  env?: NodeJS.ProcessEnv,
): RoutedBlobStore {
  return buildBlobStore(buckets, WORKER_PREFIXES, env);
}

/**
 * What the stylize worker container uses, from the environment the Batch job definition sets: inputs
 * from the uploads bucket, packages from `models/` in the models bucket and outputs to `out/` in the
 * results bucket, all through one routed blob store; the stylize executor the local worker runs too;
 * and the onnxruntime engine.
 */
export function batchWorkerDepsFromEnv(settings: WorkerSettings, env?: NodeJS.ProcessEnv): BatchRunDeps {
  const buckets = readHandlerEnv(['uploadsBucket', 'resultsBucket', 'modelsBucket'], ['catalogTable'], env);
  const blobs = batchWorkerBlobStore(buckets, env);
  // Trained models are looked up in the catalog table, when the job definition names it.
  const trained = buckets.catalogTable === undefined ? undefined : buildModelRegistry(buckets.catalogTable, {}, env);
  const catalog = new BucketModelCatalog(blobs, DEFAULT_PACKAGE_PREFIX, trained);
  const cache = new BlobModelCache(blobs, catalog, settings.modelCacheDir);
  const engine = new OnnxStylizeEngine({
    resolveModelDir: (model) => cache.dirFor(model),
    intraOpThreads: settings.intraOpThreads,
    executionProvider: settings.executionProvider,
  });
  return {
    jobs: jobStoreFromEnv(env),
    events: new StreamJobEvents(),
    stylize: createStylizeExecutor({ blobs, engine, models: catalog, outputPrefix: BLOB_PREFIXES.out }),
  };
}
