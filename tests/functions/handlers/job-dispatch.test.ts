/**
 * The job outbox on AWS: a new job's row is the only write a submission makes, and the job-dispatch
 * function, fed by the jobs table's stream, queues a STYLIZE job on SQS or starts a TRAIN job. So a
 * function that dies right after writing the row, or cannot reach the queue at all, still leaves a
 * job that runs. dynalite has no streams, so the stream record is built from the item as dynalite
 * stored it (the NEW_AND_OLD_IMAGES shape the stack configures); SQS is local-aws-sqs on loopback.
 * Lambda's Invoke API has no local implementation, so its client alone is mocked to observe the start.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoDbDocumentClient, DynamoJobStore } from '../../../functions/adapters/aws';
import { HANDLER_ENV } from '../../../functions/handlers/support/handler-env';
import {
  JOBS_TABLE_NAMES,
  LOCAL_CREDENTIALS,
  startDynamo,
  startS3,
  startSqs,
  type DynamoEmulator,
  type S3Emulator,
  type SqsEmulator,
} from '../../support/emulators';
import { createRecordTables } from '../../contract/records.contract';
import { graphqlEvent } from './graphql-event';

let dynamo: DynamoEmulator;
let s3: S3Emulator;
let sqs: SqsEmulator;
let bucket: string;
let jobsTable: string;
let queueUrl: string;
let sequence = 0;

beforeAll(async () => {
  [dynamo, s3, sqs] = await Promise.all([startDynamo(), startS3(), startSqs()]);
  const [tables, table, queue] = await Promise.all([
    createRecordTables(dynamo.client),
    dynamo.newJobsTable(),
    sqs.newQueuePair(4),
  ]);
  jobsTable = table;
  queueUrl = queue.queueUrl;
  bucket = await s3.newBucket();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    [HANDLER_ENV.jobsTable]: jobsTable,
    [HANDLER_ENV.jobsByOwnerIndex]: JOBS_TABLE_NAMES.ownerIndex,
    [HANDLER_ENV.apiKeysTable]: tables.apiKeys,
    [HANDLER_ENV.catalogTable]: tables.catalog,
    [HANDLER_ENV.uploadsBucket]: bucket,
    // The dispatch function's settings; the GraphQL function is given neither the queue nor the launcher.
    [HANDLER_ENV.stylizeQueueUrl]: queueUrl,
    [HANDLER_ENV.trainingLauncherFunction]: 'peerstyle-training-launcher',
  });
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), s3?.stop(), sqs?.stop()]);
});

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON. */
async function graphql(query: string, owner: string): Promise<any> {
  const { handler } = await import('../../../functions/handlers/graphql');
  const result = (await handler(
    graphqlEvent({ query }, { owner }) as never,
    {} as Context,
  )) as APIGatewayProxyStructuredResultV2;
  const body = JSON.parse(result.body ?? 'null');
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** The stream record DynamoDB would emit for the insert of the job item `jobId`. */
async function insertRecord(jobId: string): Promise<DynamoDBRecord> {
  const { Item } = await dynamo.client.send(
    new GetItemCommand({ TableName: jobsTable, Key: { pk: { S: jobId } }, ConsistentRead: true }),
  );
  if (Item === undefined) throw new Error(`no item for job ${jobId}`);
  sequence += 1;
  return {
    eventID: randomUUID(),
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: { pk: { S: jobId } },
      NewImage: Item as Record<string, AttributeValue> as never,
      SequenceNumber: String(sequence).padStart(21, '0'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

async function dispatch(records: DynamoDBRecord[]): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const { handler } = await import('../../../functions/handlers/job-dispatch');
  return handler({ Records: records } as DynamoDBStreamEvent);
}

async function messages(): Promise<string[]> {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return Messages.map((m) => m.Body ?? '');
}

test('a stylize job reaches the queue from its row alone, after the API function wrote only the row', async () => {
  const owner = `alice-${randomUUID()}`;
  const key = `uploads/${owner}/photo`;
  const photo = readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'images', 'photo-1.jpg'));
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }));
  const stylize = `mutation { stylize(input: { content: "${key}", styles: [{ uploadKey: "${key}" }], idempotencyKey: "once" }) { id status } }`;
  const job = (await graphql(stylize, owner)).stylize;
  expect(job.status).toBe('QUEUED');
  // The submission made one write, the row: nothing is on the queue yet. Had the function died right
  // after it, this is where things would stand.
  expect(await messages()).toEqual([]);

  const record = await insertRecord(job.id);
  expect(await dispatch([record])).toEqual({ batchItemFailures: [] });
  const bodies = await messages();
  expect(bodies.map((body) => JSON.parse(body).jobId)).toEqual([job.id]);

  // A retry with the same idempotency key returns the job and writes no second row, so no second message.
  expect((await graphql(stylize, owner)).stylize.id).toBe(job.id);
  expect(await messages()).toEqual([]);
});

test('a training job is started through the launcher function, asynchronously', async () => {
  const lambda = mockClient(LambdaClient);
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  try {
    const store = new DynamoJobStore({
      client: createDynamoDbDocumentClient(dynamo.client),
      tableName: jobsTable,
      dispatchThroughStream: true,
    });
    const { job, enqueued } = await store.create({ owner: 'bob', kind: 'TRAIN', input: { preset: 'tiny' } });
    expect(enqueued).toBe(true);
    expect(await dispatch([await insertRecord(job.id)])).toEqual({ batchItemFailures: [] });
    const calls = lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ FunctionName: 'peerstyle-training-launcher', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(calls[0]!.Payload as Uint8Array).toString('utf8'))).toMatchObject({ jobId: job.id });
  } finally {
    lambda.restore();
  }
});

test('rows not marked for dispatch, and changes other than inserts, are left alone', async () => {
  const unmarked = new DynamoJobStore({ client: createDynamoDbDocumentClient(dynamo.client), tableName: jobsTable });
  const { job, enqueued } = await unmarked.create({ owner: 'carol', kind: 'STYLIZE', input: {} });
  expect(enqueued).toBeUndefined();
  const insert = await insertRecord(job.id);
  const modify: DynamoDBRecord = { ...insert, eventName: 'MODIFY' };
  expect(await dispatch([insert, modify])).toEqual({ batchItemFailures: [] });
  expect(await messages()).toEqual([]);
});
