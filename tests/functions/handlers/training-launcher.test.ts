/**
 * The training launcher function: a TRAIN job id in, a SageMaker training job out. The jobs table is
 * real (dynalite on loopback) and so are the uploads and datasets buckets (s3rver on loopback, which
 * implements ListObjectsV2 and CopyObject), all configured through the environment the stack sets;
 * SageMaker has no local implementation, so its client is replaced with aws-sdk-client-mock and the
 * tests assert the CreateTrainingJob request the launcher makes.
 */

import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, ResourceInUse, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { S3BlobStore, S3DatasetStager } from '../../../functions/adapters/aws';
import { ErrorCode } from '../../../functions/core';
import { launchTraining } from '../../../functions/handlers/events/launch-training';
import { handler } from '../../../functions/handlers/training-launcher';
import { trainingLaunchDepsFromEnv } from '../../../functions/wiring/aws';
import { TRAINING_METRIC_DEFINITIONS } from '../../../infra/lib/training-metrics';
import { expectDomainError } from '../../support/expect-domain-error';
import { createTrainJob, startTrainingTables, type TrainingTables } from './training-support';
import { at } from '../../support/checked';

const sagemaker = mockClient(SageMakerClient);
let tables: TrainingTables;
let uploads: S3BlobStore;
let datasets: S3BlobStore;
const savedEnv = { ...process.env };

beforeAll(async () => {
  tables = await startTrainingTables({
    PEERSTYLE_DATASETS_BUCKET: 'datasets-bucket',
    PEERSTYLE_MODELS_BUCKET: 'models-bucket',
    PEERSTYLE_TRAINING_IMAGE_URI: '123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:abc',
    PEERSTYLE_TRAINING_ROLE_ARN: 'arn:aws:iam::123456789012:role/training',
    PEERSTYLE_TRAINING_INSTANCE_TYPE: 'ml.g5.xlarge',
    PEERSTYLE_TRAINING_USE_SPOT: 'true',
    PEERSTYLE_TRAINING_MAX_RUNTIME_SECONDS: '28800',
    PEERSTYLE_TRAINING_MAX_WAIT_SECONDS: '57600',
    PEERSTYLE_TRAINING_JOB_PREFIX: 'peerstyle-',
    PEERSTYLE_TRAINING_METRIC_DEFINITIONS: JSON.stringify(TRAINING_METRIC_DEFINITIONS),
  });
  // The datasets bucket keeps its fixed name, so the S3 URIs SageMaker is given can be spelled out.
  await tables.s3.client.send(new CreateBucketCommand({ Bucket: 'datasets-bucket' }));
  const uploadsBucket = await tables.s3.newBucket();
  Object.assign(process.env, tables.env, { PEERSTYLE_UPLOADS_BUCKET: uploadsBucket });
  uploads = new S3BlobStore({ client: tables.s3.client, bucket: uploadsBucket });
  datasets = new S3BlobStore({ client: tables.s3.client, bucket: 'datasets-bucket' });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(async () => {
  process.env = savedEnv;
  jest.restoreAllMocks();
  await tables?.stop();
});
beforeEach(() => sagemaker.reset());

test('a QUEUED TRAIN job becomes a spot training job with string hyperparameters, and stays QUEUED', async () => {
  sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:1:training-job/x' });
  const job = await createTrainJob(tables.jobs, 'user-1');

  const result = await handler({ jobId: job.id });

  expect(result).toEqual({ status: 'launched', jobId: job.id, trainingJobName: `peerstyle-${job.id}` });
  const call = at(sagemaker.commandCalls(CreateTrainingJobCommand), 0);
  expect(call.args[0].input).toMatchObject({
    TrainingJobName: `peerstyle-${job.id}`,
    RoleArn: 'arn:aws:iam::123456789012:role/training',
    HyperParameters: { lr: '0.0002', preset: 'tiny', steps: '120' },
    EnableManagedSpotTraining: true,
    StoppingCondition: { MaxRuntimeInSeconds: 28800, MaxWaitTimeInSeconds: 57600 },
    OutputDataConfig: { S3OutputPath: 's3://models-bucket/training-output/' },
    Tags: [{ Key: 'peerstyle:job-id', Value: job.id }],
  });
  expect(call.args[0].input.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(
    's3://datasets-bucket/datasets/user-1/portraits/',
  );
  expect(call.args[0].input.AlgorithmSpecification?.MetricDefinitions).toHaveLength(TRAINING_METRIC_DEFINITIONS.length);
  const stored = await tables.jobs.get(job.id);
  expect(stored).toMatchObject({ status: 'QUEUED', stage: 'launched' });
  expect(stored!.messages.map((m) => m.text)).toContain(`SageMaker training job peerstyle-${job.id} created.`);
});

test('launching again is harmless: SageMaker refuses the duplicate name, and a started job is left alone', async () => {
  const job = await createTrainJob(tables.jobs, 'user-1');
  sagemaker.on(CreateTrainingJobCommand).rejects(new ResourceInUse({ message: 'exists', $metadata: {} }));
  expect(await handler({ jobId: job.id })).toEqual({ status: 'already-launched', jobId: job.id });
  expect((await tables.jobs.get(job.id))?.status).toBe('QUEUED');

  await tables.jobs.transition(job.id, 'QUEUED', 'RUNNING');
  sagemaker.reset();
  expect(await handler({ jobId: job.id })).toEqual({ status: 'skipped', jobId: job.id, reason: 'job is RUNNING' });
  expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
});

/** Every key under `prefix` in a bucket, sorted. */
async function keysUnder(store: S3BlobStore, prefix: string): Promise<string[]> {
  return (await store.list({ prefix, limit: 1000 })).items.map((item) => item.key).sort();
}

const bytes = (text: string) => new TextEncoder().encode(text);
/** The first bytes of each format, which is all the stager reads of an upload; the rest is filler. */
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 5]);
const WEBP = Uint8Array.from([0x52, 0x49, 0x46, 0x46, 9, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 6]);
const GIF = Uint8Array.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 7]);

describe('a dataset given as an upload prefix', () => {
  test('is copied to datasets/<jobId>/ with its layout, then trained on; a retried launch copies onto the same keys', async () => {
    // Uploads have no extension; the copies are named after the format their bytes show.
    await uploads.put('uploads/user-4/set-1/content/a', JPEG);
    await uploads.put('uploads/user-4/set-1/content/b', PNG);
    await uploads.put('uploads/user-4/set-1/style/s', WEBP);
    await uploads.put('uploads/user-4/set-1/style/t.jpg', JPEG);
    // Not an image: left out, and counted.
    await uploads.put('uploads/user-4/set-1/style/notes', bytes('not an image'));
    // Beside the set, in the same owner's uploads: not part of it, so not copied.
    await uploads.put('uploads/user-4/set-10/content/x', bytes('other set'));
    const job = await createTrainJob(tables.jobs, 'user-4', { dataset: { uploadPrefix: 'uploads/user-4/set-1/' } });

    // The first attempt stages the set and then meets a throttled SageMaker; the invocation fails.
    sagemaker
      .on(CreateTrainingJobCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      );
    await expect(handler({ jobId: job.id })).rejects.toThrow();
    const staged = [
      `datasets/${job.id}/content/a.jpg`,
      `datasets/${job.id}/content/b.png`,
      `datasets/${job.id}/style/s.webp`,
      `datasets/${job.id}/style/t.jpg`,
    ];
    expect(await keysUnder(datasets, 'datasets/')).toEqual(staged);

    sagemaker.reset();
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:1:training-job/y' });
    expect(await handler({ jobId: job.id })).toEqual({
      status: 'launched',
      jobId: job.id,
      trainingJobName: `peerstyle-${job.id}`,
    });

    expect(await keysUnder(datasets, 'datasets/')).toEqual(staged);
    expect(Buffer.from(await datasets.get(`datasets/${job.id}/style/s.webp`))).toEqual(Buffer.from(WEBP));
    const call = at(sagemaker.commandCalls(CreateTrainingJobCommand), 0);
    expect(call.args[0].input.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(
      `s3://datasets-bucket/datasets/${job.id}/`,
    );
    const stored = await tables.jobs.get(job.id);
    expect(stored).toMatchObject({ status: 'QUEUED', stage: 'launched' });
    expect(stored!.messages.map((m) => m.text)).toContain(
      `Copied 4 images (${2 * JPEG.length + PNG.length + WEBP.length} bytes) from uploads/user-4/set-1/ to datasets/${job.id}/; left out 1 files that are not JPEG, PNG or WebP images.`,
    );
  });

  test("outside the owner's own uploads is FORBIDDEN: the job fails, nothing is copied and SageMaker is not called", async () => {
    await uploads.put('uploads/user-5/private/content/a', bytes('not yours'));
    for (const uploadPrefix of ['uploads/user-5/private/', 'drop/', 'uploads/user-6/../user-5/private/']) {
      const job = await createTrainJob(tables.jobs, 'user-6', { dataset: { uploadPrefix } });
      expect((await handler({ jobId: job.id })).status).toBe('failed');
      expect(await tables.jobs.get(job.id)).toMatchObject({ status: 'FAILED', error: { code: 'FORBIDDEN' } });
      expect(await keysUnder(datasets, `datasets/${job.id}/`)).toEqual([]);
    }
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });

  test('without two style images among its uploads fails the job with BAD_REQUEST naming the group, and copies nothing', async () => {
    await uploads.put('uploads/user-9/set/content/a', JPEG);
    await uploads.put('uploads/user-9/set/style/s', JPEG);
    await uploads.put('uploads/user-9/set/style/gif', GIF);
    const job = await createTrainJob(tables.jobs, 'user-9', { dataset: { uploadPrefix: 'uploads/user-9/set/' } });
    expect((await handler({ jobId: job.id })).status).toBe('failed');
    const failed = await tables.jobs.get(job.id);
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'BAD_REQUEST' } });
    expect(failed!.error!.message).toMatch(
      /has 1 style image under style\/.*group: "set\/style"\)\. 1 upload was left out because it is not a JPEG, PNG or WebP image\./,
    );
    expect(await keysUnder(datasets, `datasets/${job.id}/`)).toEqual([]);
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });

  test('with nothing under it fails the job with NOT_FOUND', async () => {
    const job = await createTrainJob(tables.jobs, 'user-7', { dataset: { uploadPrefix: 'uploads/user-7/empty/' } });
    expect((await handler({ jobId: job.id })).status).toBe('failed');
    expect(await tables.jobs.get(job.id)).toMatchObject({ status: 'FAILED', error: { code: 'NOT_FOUND' } });
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });

  test('past the file or byte cap fails the job with TOO_LARGE naming the limits, and copies nothing', async () => {
    await uploads.put('uploads/user-8/big/content/a', bytes('12345'));
    await uploads.put('uploads/user-8/big/content/b', bytes('67890'));
    await uploads.put('uploads/user-8/big/style/s', bytes('abcde'));
    const base = trainingLaunchDepsFromEnv();
    for (const caps of [{ maxObjects: 2 }, { maxBytes: 14 }]) {
      const stager = new S3DatasetStager({
        client: tables.s3.client,
        uploadsBucket: process.env.PEERSTYLE_UPLOADS_BUCKET!,
        datasetsBucket: 'datasets-bucket',
        ...caps,
      });
      const job = await createTrainJob(tables.jobs, 'user-8', { dataset: { uploadPrefix: 'uploads/user-8/big/' } });
      const result = await launchTraining({ ...base, stager }, { jobId: job.id });
      expect(result.status).toBe('failed');
      const failed = await tables.jobs.get(job.id);
      expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'TOO_LARGE' } });
      expect(failed!.error!.message).toMatch(/limits: \d+ files, \d+ bytes/);
      expect(await keysUnder(datasets, `datasets/${job.id}/`)).toEqual([]);
    }
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });
});

test('a throttled SageMaker call propagates so the invocation is retried, and the job is untouched', async () => {
  const job = await createTrainJob(tables.jobs, 'user-3');
  const throttled = Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
  sagemaker.on(CreateTrainingJobCommand).rejects(throttled);
  await expect(handler({ jobId: job.id })).rejects.toThrow();
  expect(await tables.jobs.get(job.id)).toMatchObject({ status: 'QUEUED', stage: 'queued' });
});

test('a payload without a job id, or with an unknown one, is refused', async () => {
  await expectDomainError(handler({}), ErrorCode.BAD_REQUEST);
  await expectDomainError(handler({ jobId: 'no-such-job' }), ErrorCode.NOT_FOUND);
});
