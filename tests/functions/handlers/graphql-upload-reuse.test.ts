/**
 * Upload forms can be posted again until they expire (S3 presigned POST policies cannot be made
 * single-use), so what a saved style or a job refers to must not be the upload itself. The GraphQL
 * Lambda handler runs against s3rver, dynalite and local-aws-sqs on loopback, with the environment the
 * stack sets; the tests post real forms to s3rver, then post the same form again with other bytes.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createDynamoDbDocumentClient, DynamoJobStore, DynamoStyleStore } from '../../../functions/adapters/aws';
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
import { at } from '../../support/checked';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'images');
const image = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

let s3: S3Emulator;
let dynamo: DynamoEmulator;
let sqs: SqsEmulator;
let bucket: string;
let jobs: DynamoJobStore;
let styles: DynamoStyleStore;

beforeAll(async () => {
  [s3, dynamo, sqs] = await Promise.all([startS3(), startDynamo(), startSqs()]);
  const [tables, jobsTable, queue] = await Promise.all([
    createRecordTables(dynamo.client),
    dynamo.newJobsTable(),
    sqs.newQueuePair(4),
  ]);
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
    [HANDLER_ENV.stylizeQueueUrl]: queue.queueUrl,
    [HANDLER_ENV.uploadsBucket]: bucket,
    [HANDLER_ENV.resultsBucket]: bucket,
    [HANDLER_ENV.trainingLauncherFunction]: 'peerstyle-training-launcher',
  });
  const client = createDynamoDbDocumentClient(dynamo.client);
  jobs = new DynamoJobStore({ client, tableName: jobsTable, ownerIndexName: JOBS_TABLE_NAMES.ownerIndex });
  styles = new DynamoStyleStore({ client, tableName: tables.catalog });
});
afterAll(async () => {
  await Promise.all([s3?.stop(), dynamo?.stop(), sqs?.stop()]);
});

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON. */
async function graphql(query: string, variables: Record<string, unknown>, owner = 'alice'): Promise<any> {
  const { handler } = await import('../../../functions/handlers/graphql');
  const result = (await handler(
    graphqlEvent({ query, variables }, { owner }) as never,
    {} as Context,
  )) as APIGatewayProxyStructuredResultV2;
  const body = JSON.parse(result.body ?? 'null');
  expect(body.errors).toBeUndefined();
  return body.data;
}

interface Form {
  url: string;
  key: string;
  fields: Array<{ name: string; value: string }>;
}

async function createUpload(bytes: Buffer, type: string): Promise<Form> {
  const data = await graphql(
    'mutation($type: String!, $size: Int!) { createUpload(contentType: $type, byteSize: $size) { url key fields { name value } } }',
    { type, size: bytes.length },
  );
  return data.createUpload as Form;
}

/** Posts a form as a browser does; the size limit is the declared size, so only same-size files fit. */
async function post(form: Form, bytes: Buffer, type: string): Promise<void> {
  const body = new FormData();
  for (const { name, value } of form.fields) body.append(name, value);
  body.append('Content-Type', type);
  body.append('file', new Blob([new Uint8Array(bytes)], { type }), 'upload');
  const response = await fetch(form.url, { method: 'POST', body });
  expect(response.status).toBeLessThan(300);
}

async function object(key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** The same number of bytes as `bytes`, different content: what a reused form may carry. */
const tampered = (bytes: Buffer): Buffer => Buffer.from(bytes.map((byte) => byte ^ 0xff));

test('a registered style is a copy under saved-styles/, which reusing its upload form does not change', async () => {
  const painting = image('painting-1.jpg');
  const form = await createUpload(painting, 'image/jpeg');
  await post(form, painting, 'image/jpeg');
  const data = await graphql('mutation($key: String!) { registerStyle(name: "Kept", uploadKey: $key) { id } }', {
    key: form.key,
  });
  const style = await styles.get(data.registerStyle.id, 'alice');
  expect(style?.blobKey).toMatch(/^saved-styles\/alice\/[0-9a-f-]{36}$/);

  await post(form, tampered(painting), 'image/jpeg');
  expect((await object(form.key)).equals(painting)).toBe(false);
  expect((await object(style!.blobKey)).equals(painting)).toBe(true);
});

test('a job reads copies of its uploads; reusing a form changes neither the job nor its idempotent retry', async () => {
  const photo = image('photo-1.jpg');
  const painting = image('painting-2.jpg');
  const contentForm = await createUpload(photo, 'image/jpeg');
  const styleForm = await createUpload(painting, 'image/jpeg');
  await post(contentForm, photo, 'image/jpeg');
  await post(styleForm, painting, 'image/jpeg');
  const stylize = `mutation($content: String!, $style: String!) {
    stylize(input: { content: $content, styles: [{ uploadKey: $style }], idempotencyKey: "reuse-1" }) { id }
  }`;
  const variables = { content: contentForm.key, style: styleForm.key };
  const first = (await graphql(stylize, variables)).stylize.id as string;
  const input = (await jobs.get(first))?.input as { contentKey: string; styles: Array<{ key: string }> };
  expect(input.contentKey).toMatch(/^job-inputs\/alice\//);
  expect(input.styles[0]?.key).toMatch(/^job-inputs\/alice\//);

  await post(contentForm, tampered(photo), 'image/jpeg');
  await post(styleForm, tampered(painting), 'image/jpeg');
  expect((await object(input.contentKey)).equals(photo)).toBe(true);
  expect((await object(at(input.styles, 0).key)).equals(painting)).toBe(true);

  // A retry names the same copies, so it is the same request: the same job, not IDEMPOTENCY_CONFLICT.
  expect((await graphql(stylize, variables)).stylize.id).toBe(first);
  expect((await object(input.contentKey)).equals(photo)).toBe(true);
});
