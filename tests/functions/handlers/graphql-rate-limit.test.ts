/**
 * Per-owner request budgets on AWS: the GraphQL Lambda handler charges every request, and every
 * job-creating field past the first, to counters in a DynamoDB table, and refuses past the budget with
 * the local server's RATE_LIMITED error, HTTP 429 and `retry-after`. DynamoDB, S3 and SQS are
 * dynalite, s3rver and local-aws-sqs on loopback.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DYNAMO_RATE_LIMITS_TABLE } from '../../../functions/adapters/aws';
import { HANDLER_ENV } from '../../../functions/handlers/support/handler-env';
import {
  JOBS_TABLE_NAMES,
  LOCAL_CREDENTIALS,
  startDynamo,
  startS3,
  startSqs,
  waitForActiveTable,
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

beforeAll(async () => {
  [dynamo, s3, sqs] = await Promise.all([startDynamo(), startS3(), startSqs()]);
  const [tables, jobsTable, queue] = await Promise.all([
    createRecordTables(dynamo.client),
    dynamo.newJobsTable(),
    sqs.newQueuePair(4),
  ]);
  bucket = await s3.newBucket();
  const rateLimits = `rate-${randomUUID()}`;
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: rateLimits,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: DYNAMO_RATE_LIMITS_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: DYNAMO_RATE_LIMITS_TABLE.partitionKey, KeyType: 'HASH' }],
    }),
  );
  await waitForActiveTable(dynamo.client, rateLimits);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    [HANDLER_ENV.jobsTable]: jobsTable,
    [HANDLER_ENV.jobsByOwnerIndex]: JOBS_TABLE_NAMES.ownerIndex,
    [HANDLER_ENV.apiKeysTable]: tables.apiKeys,
    [HANDLER_ENV.catalogTable]: tables.catalog,
    [HANDLER_ENV.rateLimitsTable]: rateLimits,
    [HANDLER_ENV.requestsPerMinute]: '4',
    [HANDLER_ENV.requestsPerSecond]: '100',
    [HANDLER_ENV.stylizeQueueUrl]: queue.queueUrl,
    [HANDLER_ENV.uploadsBucket]: bucket,
    [HANDLER_ENV.trainingLauncherFunction]: 'peerstyle-training-launcher',
  });
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), s3?.stop(), sqs?.stop()]);
});

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: string[]; extensions: { code: string } }>;
  };
}

async function invoke(query: string, owner: string): Promise<Answer> {
  const { handler } = await import('../../../functions/handlers/graphql');
  const result = (await handler(
    graphqlEvent({ query }, { owner }) as never,
    {} as Context,
  )) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode ?? 0, headers: result.headers ?? {}, body: JSON.parse(result.body ?? 'null') };
}

/**
 * The budgets are counted in fixed minute windows (the limiter's window starts on the minute), so a
 * test whose requests straddle a minute boundary would see its count start again. Each test starts
 * with at least 40 s of its window left, far more than its few requests take even on a loaded machine.
 */
async function awayFromWindowEdge(): Promise<void> {
  const intoMinute = (Date.now() / 1000) % 60;
  if (intoMinute > 20) await new Promise((resolve) => setTimeout(resolve, (60 - intoMinute) * 1000 + 200));
}

test('past the per-minute budget a request is refused with 429, RATE_LIMITED and retry-after; other owners go on', async () => {
  const owner = `alice-${randomUUID()}`;
  await awayFromWindowEdge();
  for (let i = 0; i < 4; i += 1) {
    const ok = await invoke('{ models { id } }', owner);
    expect(ok.status).toBe(200);
    expect(ok.body.errors).toBeUndefined();
  }
  const refused = await invoke('{ models { id } }', owner);
  expect(refused.status).toBe(429);
  expect(refused.body.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
  expect(refused.body.errors?.[0]?.message).toMatch(
    /^Too many requests: the limit is 4 per minute\. Retry in \d+ s\.$/,
  );
  expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect((await invoke('{ models { id } }', `bob-${randomUUID()}`)).status).toBe(200);
});

test('each job-creating field past the first is charged: the fifth aliased stylize is RATE_LIMITED', async () => {
  const owner = `carol-${randomUUID()}`;
  const photo = readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'images', 'photo-1.jpg'));
  const key = `uploads/${owner}/photo`;
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }));
  const field = (n: number) =>
    `s${n}: stylize(input: { content: "${key}", styles: [{ uploadKey: "${key}" }], idempotencyKey: "k${n}" }) { id }`;
  await awayFromWindowEdge();
  const answer = await invoke(`mutation { ${[1, 2, 3, 4, 5].map(field).join(' ')} }`, owner);
  // The request paid for s1; s2..s4 took the rest of the budget of 4; s5 found it spent.
  expect(answer.body.errors?.map((e) => [e.path?.[0], e.extensions.code])).toEqual([['s5', 'RATE_LIMITED']]);
});
