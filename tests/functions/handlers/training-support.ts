/**
 * Shared set-up for the training handler tests: dynalite with a jobs table and a catalog table shaped
 * like the deployed ones, s3rver with a models bucket, the environment the stack sets on the training
 * functions, TRAIN jobs, and SageMaker-style model artifacts (a gzip tar written by the system's tar).
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  createDynamoDbDocumentClient,
  DynamoJobStore,
  DynamoModelRegistry,
  S3BlobStore,
} from '../../../functions/adapters/aws';
import type { Job, JsonValue } from '../../../functions/core';
import {
  LOCAL_CREDENTIALS,
  startDynamo,
  startS3,
  waitForActiveTable,
  type DynamoEmulator,
  type S3Emulator,
} from '../../support/emulators';

/** A running dynalite with the two tables and stores over them. */
export interface TrainingTables {
  dynamo: DynamoEmulator;
  s3: S3Emulator;
  env: NodeJS.ProcessEnv;
  jobs: DynamoJobStore;
  models: DynamoModelRegistry;
  /** The models bucket. */
  modelsBucket: S3BlobStore;
  stop(): Promise<void>;
}

/** Starts dynalite and creates the jobs and catalog tables. */
export async function startTrainingTables(extraEnv: NodeJS.ProcessEnv = {}): Promise<TrainingTables> {
  const [dynamo, s3] = await Promise.all([startDynamo(), startS3()]);
  const bucket = await s3.newBucket();
  const jobsTable = await dynamo.newJobsTable();
  const catalogTable = `catalog-${randomUUID()}`;
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: catalogTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await waitForActiveTable(dynamo.client, catalogTable);
  const client = createDynamoDbDocumentClient(dynamo.client);
  return {
    dynamo,
    s3,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      PEERSTYLE_JOBS_TABLE: jobsTable,
      PEERSTYLE_CATALOG_TABLE: catalogTable,
      PEERSTYLE_MODELS_BUCKET: bucket,
      ...extraEnv,
    },
    jobs: new DynamoJobStore({ client, tableName: jobsTable }),
    models: new DynamoModelRegistry({ client, tableName: catalogTable }),
    modelsBucket: new S3BlobStore({ client: s3.client, bucket }),
    stop: async () => {
      await Promise.all([dynamo.stop(), s3.stop()]);
    },
  };
}

/**
 * A `model.tar.gz` as SageMaker packs /opt/ml/model after `peerstyle train --sagemaker`: the package
 * (manifest and graphs, stand-in bytes here) beside the raw weights. Without `manifest`, the archive
 * holds only weights, as a trainer that did not export would leave it.
 */
export function modelArchive(options: { manifest?: boolean; listsWeights?: boolean } = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'peerstyle-artifact-'));
  const model = join(dir, 'model');
  execFileSync('mkdir', ['-p', model]);
  if (options.manifest !== false) {
    // The manifest's files table names what the package is; a package exported with its weights lists them.
    const listed = [
      'encoder.onnx',
      'tpfr.onnx',
      'decoder.onnx',
      ...(options.listsWeights ? ['weights.json', 'weights.bin'] : []),
    ];
    const files = Object.fromEntries(listed.map((f) => [f, { bytes: 0, sha256: '' }]));
    writeFileSync(
      join(model, 'manifest.json'),
      JSON.stringify({ format: 'peerstyle-model', name: 'portraits', files }),
    );
    for (const graph of ['encoder.onnx', 'tpfr.onnx', 'decoder.onnx'])
      writeFileSync(join(model, graph), `graph ${graph}`);
  }
  writeFileSync(join(model, 'weights.json'), '{"iteration":120}');
  writeFileSync(join(model, 'weights.bin'), Buffer.alloc(64));
  execFileSync('tar', ['-czf', join(dir, 'model.tar.gz'), '-C', model, '.']);
  return readFileSync(join(dir, 'model.tar.gz'));
}

/** Creates a QUEUED TRAIN job with the input `startTraining` stores. */
export async function createTrainJob(
  jobs: DynamoJobStore,
  owner: string,
  input: Partial<Record<string, JsonValue>> = {},
): Promise<Job> {
  const { job } = await jobs.create({
    owner,
    kind: 'TRAIN',
    input: {
      dataset: { folder: 'user-1/portraits' },
      preset: 'tiny',
      steps: 120,
      hyperparameters: { lr: '0.0002' },
      modelName: 'portraits',
      ...input,
    } as JsonValue,
  });
  return job;
}
