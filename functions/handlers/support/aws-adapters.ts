/**
 * Builds the AWS adapters the API and WebSocket handlers use from their settings: the composition root
 * of those functions. Client settings come from `readAwsServiceConfigs` in `handler-env.ts`, as for the
 * event-driven handlers: on AWS they are empty and the SDK finds region and credentials itself; against
 * local protocol servers they carry the endpoints (and path-style addressing for S3).
 */

import {
  createDynamoDbDocumentClient,
  createS3Client,
  createSageMakerClient,
  createWebSocketManagementClient,
  DynamoApiKeyStore,
  DynamoConnectionStore,
  DynamoJobStore,
  DynamoModelRegistry,
  DynamoRequestLimiter,
  DynamoStyleStore,
  S3BlobStore,
  SageMakerTrainingStopper,
  WebSocketPublisher,
} from '../../adapters/aws';
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { builtInModelOptions, systemClock } from '../../core';
// Bundled into the function by esbuild: the built-in model's manifest as this revision ships it.
import BUNDLED_MANIFEST from '../../../models/default/manifest.json';
import type { JobStore } from '../../core';
import { DEFAULT_LIMITS, type UseCaseDeps } from '../../core/use-cases';
import { stopTrainingOnCancel } from '../../core/use-cases/cancel-job';
import { once, positiveIntegerEnv, readAwsServiceConfigs, type HandlerSettings } from './handler-env';
import { RoutedBlobStore, type BlobRoute } from './routed-blob-store';
import { StreamJobEvents } from './stream-job-events';

/** Key prefixes per bucket (PREFIXES in infra/lib/handlers.ts). */
const PREFIX = {
  drop: 'drop/',
  uploads: 'uploads/',
  savedStyles: 'saved-styles/',
  jobInputs: 'job-inputs/',
  out: 'out/',
  models: 'models/',
  datasets: 'datasets/',
} as const;

const clientConfigs = once(() => readAwsServiceConfigs());
const documentClient = (): ReturnType<typeof createDynamoDbDocumentClient> =>
  createDynamoDbDocumentClient(clientConfigs().dynamodb);

/** The API key store on the keys table. */
export function buildApiKeyStore(settings: HandlerSettings<'apiKeysTable', never>): DynamoApiKeyStore {
  return new DynamoApiKeyStore({ client: documentClient(), tableName: settings.apiKeysTable });
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
): DynamoRequestLimiter | undefined {
  if (settings.rateLimitsTable === undefined) return undefined;
  const budget = (name: 'requestsPerMinute' | 'requestsPerSecond', fallback: number): number => {
    const value = settings[name];
    return value === undefined ? fallback : positiveIntegerEnv(name, value);
  };
  return new DynamoRequestLimiter({
    client: documentClient(),
    tableName: settings.rateLimitsTable,
    perMinute: budget('requestsPerMinute', DEFAULT_REQUESTS_PER_MINUTE),
    perSecond: budget('requestsPerSecond', DEFAULT_REQUESTS_PER_SECOND),
  });
}

/**
 * The job store on the jobs table. With `dispatchThroughStream` new jobs are left to the job-dispatch
 * function (the outbox), and the caller sends nothing.
 */
export function buildJobStore(
  settings: HandlerSettings<'jobsTable', 'jobsByOwnerIndex'>,
  options: { dispatchThroughStream?: boolean } = {},
): JobStore {
  return new DynamoJobStore({
    client: documentClient(),
    tableName: settings.jobsTable,
    ...(settings.jobsByOwnerIndex !== undefined && { ownerIndexName: settings.jobsByOwnerIndex }),
    ...options,
  });
}

/** One blob store over whichever buckets the function was given. */
export function buildBlobStore(
  settings: HandlerSettings<never, 'uploadsBucket' | 'resultsBucket' | 'modelsBucket' | 'datasetsBucket'>,
): RoutedBlobStore {
  const s3 = createS3Client(clientConfigs().s3);
  const routes: BlobRoute[] = [];
  const add = (prefix: string, bucket: string | undefined): void => {
    if (bucket !== undefined) routes.push({ prefix, store: new S3BlobStore({ client: s3, bucket }) });
  };
  add(PREFIX.drop, settings.uploadsBucket);
  // createUpload's keys (`uploads/<owner>/…`) live in the same bucket as the drop folder.
  add(PREFIX.uploads, settings.uploadsBucket);
  // Copies of uploads that styles and jobs rely on (frozen-uploads.ts), in the same bucket.
  add(PREFIX.savedStyles, settings.uploadsBucket);
  add(PREFIX.jobInputs, settings.uploadsBucket);
  add(PREFIX.out, settings.resultsBucket);
  add(PREFIX.models, settings.modelsBucket);
  add(PREFIX.datasets, settings.datasetsBucket);
  return new RoutedBlobStore(routes);
}

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
export function buildUseCaseDeps(settings: GraphQLSettings): UseCaseDeps {
  const client = documentClient();
  // Cancelling a RUNNING training must reach SageMaker, which never reads the jobs table; the stack
  // gives this function the run name prefix (and StopTrainingJob on it) for that.
  const events =
    settings.trainingJobPrefix === undefined
      ? new StreamJobEvents()
      : stopTrainingOnCancel(
          new StreamJobEvents(),
          new SageMakerTrainingStopper({
            client: createSageMakerClient(),
            // The stack's prefix ends in "-" for its IAM pattern; run names add their own separator.
            jobNamePrefix: settings.trainingJobPrefix.replace(/-+$/, ''),
          }),
        );
  return {
    blobs: buildBlobStore(settings),
    jobs: buildJobStore(settings, { dispatchThroughStream: true }),
    events,
    styles: new DynamoStyleStore({ client, tableName: settings.catalogTable }),
    // The built-in model is listed with its bundled manifest's name, version and date.
    models: new DynamoModelRegistry({
      client,
      tableName: settings.catalogTable,
      ...builtInModelOptions(BUNDLED_MANIFEST),
    }),
    clock: systemClock,
    limits: DEFAULT_LIMITS,
  };
}

/** The connections and subscriptions tables. */
export function buildConnectionStore(
  settings: HandlerSettings<'connectionsTable' | 'subscriptionsTable', 'subscriptionsByTopicIndex'>,
): DynamoConnectionStore {
  return new DynamoConnectionStore({
    client: documentClient(),
    connectionsTable: settings.connectionsTable,
    subscriptionsTable: settings.subscriptionsTable,
    ...(settings.subscriptionsByTopicIndex !== undefined && { topicIndexName: settings.subscriptionsByTopicIndex }),
  });
}

/** The management API client for the WebSocket stage, and the poster built on it. */
export function buildWebSocketPublisher(
  callbackUrl: string,
  connections: DynamoConnectionStore,
): { client: ApiGatewayManagementApiClient; publisher: WebSocketPublisher } {
  const client = createWebSocketManagementClient(callbackUrl);
  return { client, publisher: new WebSocketPublisher({ client, connections }) };
}
