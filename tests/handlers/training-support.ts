/**
 * Shared set-up for the training handler tests: dynalite with a jobs table and a catalog table shaped
 * like the deployed ones, the environment the stack sets on the training functions, and TRAIN jobs.
 */

import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbDocumentClient, DynamoJobStore, DynamoModelRegistry } from '../../functions/adapters/aws';
import type { Job, JsonValue } from '../../functions/core';
import { LOCAL_CREDENTIALS, startDynamo, type DynamoEmulator } from '../aws/support/emulators';

/** A running dynalite with the two tables and stores over them. */
export interface TrainingTables {
  dynamo: DynamoEmulator;
  env: NodeJS.ProcessEnv;
  jobs: DynamoJobStore;
  models: DynamoModelRegistry;
  stop(): Promise<void>;
}

/** Starts dynalite and creates the jobs and catalog tables. */
export async function startTrainingTables(extraEnv: NodeJS.ProcessEnv = {}): Promise<TrainingTables> {
  const dynamo = await startDynamo();
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
  const client = createDynamoDbDocumentClient(dynamo.client);
  return {
    dynamo,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      PEERSTYLE_JOBS_TABLE: jobsTable,
      PEERSTYLE_CATALOG_TABLE: catalogTable,
      ...extraEnv,
    },
    jobs: new DynamoJobStore({ client, tableName: jobsTable }),
    models: new DynamoModelRegistry({ client, tableName: catalogTable }),
    stop: () => dynamo.stop(),
  };
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
