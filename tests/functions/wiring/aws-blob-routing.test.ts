/**
 * The GraphQL function's blob store on AWS: one key space over the buckets the stack names, against
 * s3rver on loopback. Upload keys from createUpload (`uploads/<owner>/…`) must land in the uploads
 * bucket, next to the drop folder, and be readable back, or every API upload fails on AWS.
 */

import { S3BlobStore } from '../../../functions/adapters/aws';
import { ErrorCode } from '../../../functions/core';
import { batchWorkerBlobStore, buildBlobStore } from '../../../functions/wiring/aws';
import { expectDomainError } from '../../support/expect-domain-error';
import { LOCAL_CREDENTIALS, startS3, type S3Emulator } from '../../support/emulators';

let s3: S3Emulator;
let buckets: { uploads: string; results: string };
const savedEnv = { ...process.env };

beforeAll(async () => {
  s3 = await startS3();
  buckets = { uploads: await s3.newBucket(), results: await s3.newBucket() };
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
  });
});
afterAll(async () => {
  process.env = savedEnv;
  await s3?.stop();
});

test('uploads/ keys are stored in and read from the uploads bucket', async () => {
  const blobs = buildBlobStore({ uploadsBucket: buckets.uploads, resultsBucket: buckets.results });
  const key = 'uploads/alice/set-1/content/0b9c';
  await blobs.put(key, new Uint8Array([1, 2, 3]), { contentType: 'image/png' });

  const direct = new S3BlobStore({ client: s3.client, bucket: buckets.uploads });
  expect(await direct.head(key)).toMatchObject({ key, size: 3 });
  expect(await blobs.head(key)).toMatchObject({ key, size: 3, contentType: 'image/png' });
  expect((await blobs.list({ prefix: 'uploads/alice/' })).items.map((item) => item.key)).toEqual([key]);
  const target = await blobs.createUploadTarget({
    key: 'uploads/alice/next',
    contentTypePrefix: 'image/',
    maxBytes: 1024,
    expiresInSeconds: 60,
  });
  expect(target.url).toContain(buckets.uploads);
});

test('a function given no uploads bucket refuses upload keys with UNAVAILABLE, naming its prefixes', async () => {
  const blobs = buildBlobStore({ resultsBucket: buckets.results });
  const error = await expectDomainError(() => blobs.head('uploads/alice/x'), ErrorCode.UNAVAILABLE);
  expect(error.message).toMatch(/Configured prefixes: out\/\./);
});

test('saved styles and job inputs are kept in the uploads bucket, for the GraphQL function and the worker', async () => {
  const direct = new S3BlobStore({ client: s3.client, bucket: buckets.uploads });
  await direct.put('uploads/alice/up', new Uint8Array([4, 5]), { contentType: 'image/png' });
  const api = buildBlobStore({ uploadsBucket: buckets.uploads, resultsBucket: buckets.results });
  await api.copy('uploads/alice/up', 'saved-styles/alice/s1');
  await api.copy('uploads/alice/up', 'job-inputs/alice/j1');
  const worker = batchWorkerBlobStore({
    uploadsBucket: buckets.uploads,
    resultsBucket: buckets.results,
    modelsBucket: buckets.results,
  });
  for (const key of ['saved-styles/alice/s1', 'job-inputs/alice/j1']) {
    expect(await direct.head(key)).toMatchObject({ size: 2, contentType: 'image/png' });
    expect(Array.from(await worker.get(key))).toEqual([4, 5]);
  }
});
