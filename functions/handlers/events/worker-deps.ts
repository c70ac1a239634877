/**
 * Builds what the stylize worker container uses, from the environment the Batch job definition sets:
 * inputs from the uploads bucket, packages from `models/` in the models bucket and outputs to `out/` in
 * the results bucket, all through one routed blob store; the job executor the local worker uses; and
 * the onnxruntime engine. Kept apart from `aws-deps.ts` because it loads the inference engine, which
 * the Lambda functions must not bundle.
 */

import type { ExecutionProvider } from '../../engine';
import { RoutedBlobStore } from '../support/routed-blob-store';
import { BlobModelCache } from '../../worker/blob-model-cache';
import { createStylizeExecutor } from '../../worker/stylize-executor';
import { blobStoreFor, jobStoreFromEnv } from './aws-deps';
import { createDynamoDbDocumentClient, DynamoModelRegistry } from '../../adapters/aws';
import { BucketModelCatalog, DEFAULT_PACKAGE_PREFIX, MODELS_PREFIX } from './bucket-model-catalog';
import { readAwsServiceConfigs, readHandlerEnv } from '../support/handler-env';
import { OUTPUT_PREFIX, type BatchRunDeps } from '../../worker/run-batch-stylize-job';
import { STYLES_PREFIX } from './style-lookup';
import { DROP_PREFIX } from './intake-dropped-object';
import { UPLOADS_ROOT } from '../../core/use-cases/uploads';
import { JOB_INPUTS_ROOT, SAVED_STYLES_ROOT } from '../../core/use-cases/frozen-uploads';
import { streamPublishedEvents } from './stream-published-events';
import { OnnxStylizeEngine } from '../../worker/onnx-stylize-engine';

const UPLOADS_PREFIX = `${UPLOADS_ROOT}/`;

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
  env: NodeJS.ProcessEnv = process.env,
): RoutedBlobStore {
  const uploads = blobStoreFor(buckets.uploadsBucket, env);
  return new RoutedBlobStore([
    { prefix: DROP_PREFIX, store: uploads },
    { prefix: STYLES_PREFIX, store: uploads },
    // Jobs submitted through the API read copies of their uploads and saved styles (frozen-uploads.ts);
    // jobs queued before those copies existed name the uploads themselves.
    { prefix: `${JOB_INPUTS_ROOT}/`, store: uploads },
    { prefix: `${SAVED_STYLES_ROOT}/`, store: uploads },
    { prefix: UPLOADS_PREFIX, store: uploads },
    { prefix: MODELS_PREFIX, store: blobStoreFor(buckets.modelsBucket, env) },
    { prefix: OUTPUT_PREFIX, store: blobStoreFor(buckets.resultsBucket, env) },
  ]);
}

/** What the stylize worker container uses. */
export function batchWorkerDepsFromEnv(settings: WorkerSettings, env: NodeJS.ProcessEnv = process.env): BatchRunDeps {
  const buckets = readHandlerEnv(['uploadsBucket', 'resultsBucket', 'modelsBucket'], ['catalogTable'], env);
  const blobs = batchWorkerBlobStore(buckets, env);
  // Trained models are looked up in the catalog table, when the job definition names it.
  const trained =
    buckets.catalogTable === undefined
      ? undefined
      : new DynamoModelRegistry({
          client: createDynamoDbDocumentClient(readAwsServiceConfigs(env).dynamodb),
          tableName: buckets.catalogTable,
        });
  const catalog = new BucketModelCatalog(blobs, DEFAULT_PACKAGE_PREFIX, trained);
  const cache = new BlobModelCache(blobs, catalog, settings.modelCacheDir);
  const engine = new OnnxStylizeEngine({
    resolveModelDir: (model) => cache.dirFor(model),
    intraOpThreads: settings.intraOpThreads,
    executionProvider: settings.executionProvider,
  });
  return {
    jobs: jobStoreFromEnv(env),
    events: streamPublishedEvents,
    stylize: createStylizeExecutor({ blobs, engine, models: catalog }),
  };
}
