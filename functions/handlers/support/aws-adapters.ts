/**
 * Builds the AWS adapters the handlers use from their settings: the composition root of the Lambda
 * functions. Clients take region, credentials and (for local runs) endpoints from the SDK's own
 * environment lookup, so nothing here differs between AWS and a test against protocol servers.
 */

import {
  createDynamoDbDocumentClient,
  createS3Client,
  createSqsClient,
  createWebSocketManagementClient,
  DynamoApiKeyStore,
  DynamoConnectionStore,
  DynamoJobStore,
  DynamoModelRegistry,
  DynamoStyleStore,
  S3BlobStore,
  SqsJobQueue,
  WebSocketPublisher,
} from '../../adapters/aws';
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { systemClock } from '../../core';
import type { JobStore } from '../../core';
import { DEFAULT_LIMITS, type UseCaseDeps } from '../../core/use-cases';
import type { HandlerSettings } from './handler-env';
import { RoutedBlobStore, type BlobRoute } from './routed-blob-store';
import { StreamJobEvents } from './stream-job-events';

/** Key prefixes per bucket (PREFIXES in infra/lib/handlers.ts). */
const PREFIX = { drop: 'drop/', out: 'out/', models: 'models/', datasets: 'datasets/' } as const;

const documentClient = (): ReturnType<typeof createDynamoDbDocumentClient> => createDynamoDbDocumentClient();

/** The API key store on the keys table. */
export function buildApiKeyStore(settings: HandlerSettings<'apiKeysTable', never>): DynamoApiKeyStore {
  return new DynamoApiKeyStore({ client: documentClient(), tableName: settings.apiKeysTable });
}

/** The job store on the jobs table. */
export function buildJobStore(settings: HandlerSettings<'jobsTable', 'jobsByOwnerIndex'>): JobStore {
  return new DynamoJobStore({
    client: documentClient(),
    tableName: settings.jobsTable,
    ...(settings.jobsByOwnerIndex !== undefined && { ownerIndexName: settings.jobsByOwnerIndex }),
  });
}

/** One blob store over whichever buckets the function was given. */
export function buildBlobStore(
  settings: HandlerSettings<never, 'uploadsBucket' | 'resultsBucket' | 'modelsBucket' | 'datasetsBucket'>,
): RoutedBlobStore {
  const s3 = createS3Client();
  const routes: BlobRoute[] = [];
  const add = (prefix: string, bucket: string | undefined): void => {
    if (bucket !== undefined) routes.push({ prefix, store: new S3BlobStore({ client: s3, bucket }) });
  };
  add(PREFIX.drop, settings.uploadsBucket);
  add(PREFIX.out, settings.resultsBucket);
  add(PREFIX.models, settings.modelsBucket);
  add(PREFIX.datasets, settings.datasetsBucket);
  return new RoutedBlobStore(routes);
}

/** Settings the GraphQL function needs. */
export type GraphQLSettings = HandlerSettings<
  'jobsTable' | 'apiKeysTable' | 'catalogTable' | 'stylizeQueueUrl',
  'jobsByOwnerIndex' | 'uploadsBucket' | 'resultsBucket' | 'datasetsBucket'
>;

/** Everything the use cases need, on AWS. */
export function buildUseCaseDeps(settings: GraphQLSettings): UseCaseDeps {
  const client = documentClient();
  return {
    blobs: buildBlobStore(settings),
    jobs: buildJobStore(settings),
    queue: new SqsJobQueue({
      client: createSqsClient(),
      queueUrl: settings.stylizeQueueUrl,
      // This function only enqueues; the stylize dispatcher is the one that drains dead letters.
      deadLetterQueueUrl: '',
    }),
    events: new StreamJobEvents(),
    styles: new DynamoStyleStore({ client, tableName: settings.catalogTable }),
    models: new DynamoModelRegistry({ client, tableName: settings.catalogTable }),
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
