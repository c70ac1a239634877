/**
 * Runs the blob store, job store and job queue contracts against the AWS adapters, each on a real
 * protocol server on loopback started here: S3BlobStore on s3rver, DynamoJobStore on dynalite and
 * SqsJobQueue on local-aws-sqs. These are the same suites the local adapters pass.
 *
 * The queue has no injectable clock, so `advance` really sleeps and the suite's one-second leases are
 * real SQS visibility timeouts. local-aws-sqs counts leased messages in ApproximateNumberOfMessages,
 * which SQS does not; the queue's `visibleCountIncludesInFlight` setting accounts for that.
 */

import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { createDynamoDbDocumentClient, DynamoJobStore, S3BlobStore, SqsJobQueue } from '../../functions/adapters/aws';
import {
  JOBS_TABLE_NAMES,
  startDynamo,
  startS3,
  startSqs,
  type DynamoEmulator,
  type S3Emulator,
  type SqsEmulator,
} from '../support/emulators';
import { describeBlobStoreContract } from './blob-store.contract';
import { describeJobQueueContract } from './job-queue.contract';
import { describeJobStoreContract } from './job-store.contract';

let s3: S3Emulator;
let dynamo: DynamoEmulator;
let sqs: SqsEmulator;

beforeAll(async () => {
  [s3, dynamo, sqs] = await Promise.all([startS3(), startDynamo(), startSqs()]);
});
afterAll(async () => {
  await Promise.all([s3?.stop(), dynamo?.stop(), sqs?.stop()]);
});

describeBlobStoreContract('S3BlobStore on s3rver', async () => {
  const bucket = await s3.newBucket();
  // Buckets are left to the server's temporary folder, which is removed when it stops.
  return { store: new S3BlobStore({ client: s3.client, bucket }), close: async () => undefined };
});

describeJobStoreContract('DynamoJobStore on dynalite', async () => {
  const tableName = await dynamo.newJobsTable();
  const store = new DynamoJobStore({
    client: createDynamoDbDocumentClient(dynamo.client),
    tableName,
    ownerIndexName: JOBS_TABLE_NAMES.ownerIndex,
  });
  return {
    store,
    close: async () => {
      await dynamo.client.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
});

describeJobQueueContract('SqsJobQueue on local-aws-sqs', async () => {
  const maxAttempts = 3;
  const { queueUrl, deadLetterQueueUrl } = await sqs.newQueuePair(maxAttempts);
  return {
    queue: new SqsJobQueue({
      client: sqs.client,
      queueUrl,
      deadLetterQueueUrl,
      maxAttempts,
      visibleCountIncludesInFlight: true,
    }),
    maxAttempts,
    advance: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
    close: async () => {
      for (const url of [queueUrl, deadLetterQueueUrl])
        await sqs.client.send(new DeleteQueueCommand({ QueueUrl: url }));
    },
  };
});
