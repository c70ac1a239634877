/**
 * Builds the adapters the drop-folder, dispatcher, training and worker entry points use, from the
 * environment the CDK stack sets (read through `support/handler-env.ts`).
 *
 * Each builder reads only the variables its function is given, because each function's role grants
 * only its own resources, and each is memoised by its caller so that a warm Lambda container reuses
 * its SDK clients (and their kept-alive connections) across invocations. The stylize worker's
 * dependencies are built in `worker-deps.ts`, so that no Lambda bundle reaches the inference engine.
 */

import {
  BatchStylizeLauncher,
  createBatchClient,
  createDynamoDbDocumentClient,
  createS3Client,
  createSageMakerClient,
  createSqsClient,
  DynamoJobStore,
  DynamoModelRegistry,
  newCatalogId,
  S3BlobStore,
  S3DatasetStager,
  SageMakerTrainingLauncher,
  SqsJobQueue,
  type TrainingMetricDefinition,
} from '../../adapters/aws';
import { DomainError, ErrorCode, type JobStore } from '../../core';
import {
  booleanEnv,
  HANDLER_ENV,
  positiveIntegerEnv,
  readAwsServiceConfigs,
  readHandlerEnv,
  readOptionalEnv,
} from '../support/handler-env';
import type { IntakeDeps } from './intake-dropped-object';
import type { TrainingStateDeps } from './apply-training-state';
import { BucketModelPublisher } from './model-package-publisher';
import type { DatasetStager, TrainingRunLauncher } from './launch-training';
import { streamPublishedEvents } from './stream-published-events';
import { BlobStyleLookup } from './style-lookup';

/** The jobs table as a job store. */
export function jobStoreFromEnv(env: NodeJS.ProcessEnv = process.env): JobStore {
  const { jobsTable } = readHandlerEnv(['jobsTable'], [], env);
  const client = createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb);
  return new DynamoJobStore({
    client,
    tableName: jobsTable,
    ownerIndexName: readOptionalEnv('jobsByOwnerIndex', 'byOwner', env),
  });
}

/** An S3 blob store over one bucket. */
export function blobStoreFor(bucket: string, env: NodeJS.ProcessEnv = process.env): S3BlobStore {
  return new S3BlobStore({ client: createS3Client(readAwsServiceConfigs(env).s3), bucket });
}

/** What the drop-folder intake function uses. */
export function intakeDepsFromEnv(env: NodeJS.ProcessEnv = process.env): IntakeDeps {
  const { uploadsBucket, stylizeQueueUrl } = readHandlerEnv(['uploadsBucket', 'stylizeQueueUrl'], [], env);
  const blobs = blobStoreFor(uploadsBucket, env);
  const queue = new SqsJobQueue({
    client: createSqsClient(readAwsServiceConfigs(env).sqs),
    // The intake only sends; SQS itself moves messages to the dead-letter queue by its redrive policy.
    queueUrl: stylizeQueueUrl,
  });
  return { blobs, bucket: uploadsBucket, jobs: jobStoreFromEnv(env), queue, styles: new BlobStyleLookup(blobs) };
}

/** The Batch launcher the dispatcher uses. */
export function batchLauncherFromEnv(env: NodeJS.ProcessEnv = process.env): BatchStylizeLauncher {
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
export function trainingLauncherFromEnv(env: NodeJS.ProcessEnv = process.env): SageMakerTrainingLauncher {
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
    // The stack's prefix ends in "-" for its IAM pattern; the launcher adds its own separator.
    jobNamePrefix: values.trainingJobPrefix.replace(/-+$/, ''),
  });
}

/** The stager that copies uploaded training sets from the uploads bucket into the datasets bucket. */
export function datasetStagerFromEnv(env: NodeJS.ProcessEnv = process.env): S3DatasetStager {
  const { uploadsBucket, datasetsBucket } = readHandlerEnv(['uploadsBucket', 'datasetsBucket'], [], env);
  return new S3DatasetStager({ client: createS3Client(readAwsServiceConfigs(env).s3), uploadsBucket, datasetsBucket });
}

/** What the training launcher function uses. */
export function trainingLaunchDepsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  jobs: JobStore;
  events: typeof streamPublishedEvents;
  launcher: TrainingRunLauncher;
  stager: DatasetStager;
} {
  return {
    jobs: jobStoreFromEnv(env),
    events: streamPublishedEvents,
    launcher: trainingLauncherFromEnv(env),
    stager: datasetStagerFromEnv(env),
  };
}

/**
 * What the training events function uses: the jobs table, and a publisher that unpacks artifacts in the
 * models bucket and registers them in the catalog table.
 */
export function trainingStateDepsFromEnv(env: NodeJS.ProcessEnv = process.env): TrainingStateDeps {
  const { catalogTable, modelsBucket } = readHandlerEnv(['catalogTable', 'modelsBucket'], [], env);
  const registry = new DynamoModelRegistry({
    client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
    tableName: catalogTable,
  });
  return {
    jobs: jobStoreFromEnv(env),
    events: streamPublishedEvents,
    publisher: new BucketModelPublisher(blobStoreFor(modelsBucket, env), registry),
    newModelId: () => newCatalogId(),
  };
}
