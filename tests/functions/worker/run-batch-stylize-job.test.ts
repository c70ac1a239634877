/**
 * `peerstyle worker --job-id <id>`, the AWS Batch container's command, end to end: the real
 * bin/peerstyle.js in a child process, configured only through the environment the stack sets on the
 * container (plus the SDK's endpoint variables), against s3rver, dynalite and local-aws-sqs on
 * loopback, with a real exported tiny model (random weights) in the models bucket. A photo dropped into
 * the uploads bucket goes through the intake, then the worker takes the job from QUEUED to SUCCEEDED
 * and writes the stylized image to out/ in the results bucket.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createDynamoDbDocumentClient, DynamoJobStore, S3BlobStore } from '../../../functions/adapters/aws';
import { intakeDroppedObject } from '../../../functions/handlers/events/intake-dropped-object';
import { intakeDepsFromEnv } from '../../../functions/wiring/aws';
import { runCli } from '../../support/run-cli';
import { exportTinyPackage, FIXTURES } from '../../support/tiny-package';
import {
  LOCAL_CREDENTIALS,
  startDynamo,
  startS3,
  startSqs,
  type DynamoEmulator,
  type S3Emulator,
  type SqsEmulator,
} from '../../support/emulators';

let s3: S3Emulator;
let dynamo: DynamoEmulator;
let sqs: SqsEmulator;
let env: NodeJS.ProcessEnv;
let jobs: DynamoJobStore;
let uploads: S3BlobStore;
let results: S3BlobStore;
let work: string;

beforeAll(async () => {
  [s3, dynamo, sqs] = await Promise.all([startS3(), startDynamo(), startSqs()]);
  const [uploadsBucket, resultsBucket, modelsBucket] = await Promise.all([
    s3.newBucket(),
    s3.newBucket(),
    s3.newBucket(),
  ]);
  const table = await dynamo.newJobsTable();
  const { queueUrl } = await sqs.newQueuePair(3);
  env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    PEERSTYLE_JOBS_TABLE: table,
    PEERSTYLE_UPLOADS_BUCKET: uploadsBucket,
    PEERSTYLE_RESULTS_BUCKET: resultsBucket,
    PEERSTYLE_MODELS_BUCKET: modelsBucket,
    PEERSTYLE_STYLIZE_QUEUE_URL: queueUrl,
  };
  jobs = new DynamoJobStore({ client: createDynamoDbDocumentClient(dynamo.client), tableName: table });
  uploads = new S3BlobStore({ client: s3.client, bucket: uploadsBucket });
  results = new S3BlobStore({ client: s3.client, bucket: resultsBucket });
  const models = new S3BlobStore({ client: s3.client, bucket: modelsBucket });

  // The built-in model's package, where deployment puts it: models/tspr-default/1/<files>.
  const { dir, store } = await exportTinyPackage(11);
  store.dispose();
  for (const file of readdirSync(dir))
    await models.put(`models/tspr-default/1/${file}`, readFileSync(path.join(dir, file)));
  rmSync(dir, { recursive: true, force: true });

  await uploads.put('styles/starry', readFileSync(path.join(FIXTURES, 'painting-1.jpg')));
  work = mkdtempSync(path.join(tmpdir(), 'peerstyle-worker-'));
});

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await Promise.all([s3?.stop(), dynamo?.stop(), sqs?.stop()]);
});

async function dropPhoto(name: string, eTag: string): Promise<string> {
  const key = `drop/starry/${name}`;
  await uploads.put(key, readFileSync(path.join(FIXTURES, 'photo-1.jpg')));
  const result = await intakeDroppedObject(intakeDepsFromEnv(env), {
    bucket: env.PEERSTYLE_UPLOADS_BUCKET!,
    key,
    size: null,
    versionId: null,
    eTag,
    sequencer: null,
    eventName: 'ObjectCreated:Put',
  });
  if (result.action !== 'created') throw new Error(`intake did not create a job: ${JSON.stringify(result)}`);
  return result.jobId;
}

// NODE_NO_WARNINGS hides the SDK's notice about future Node versions, so stderr holds only our output;
// this machine has no GPU, so the model runs on the CPU rather than failing over from CUDA noisily.
const worker = (jobId: string, extra: NodeJS.ProcessEnv = {}) =>
  runCli(['worker', '--job-id', jobId, '--model-cache', path.join(work, 'models'), '--provider', 'cpu'], {
    ...env,
    NODE_NO_WARNINGS: '1',
    ...extra,
  });

test('a dropped photo goes from QUEUED to SUCCEEDED with the stylized image under out/', async () => {
  const jobId = await dropPhoto('photo one.jpg', 'e-1');
  expect((await jobs.get(jobId))?.status).toBe('QUEUED');

  const run = await worker(jobId);
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(`job ${jobId}: SUCCEEDED\n`);
  expect(run.code).toBe(0);

  const job = await jobs.get(jobId);
  expect(job).toMatchObject({ status: 'SUCCEEDED', progress: 1, attempts: 1, error: null, stage: 'done' });
  expect(job!.messages.map((m) => m.text)).toContain('Attempt 1 of 3 started.');
  const result = job!.result as { outputKey: string; width: number; height: number; contentType: string };
  expect(result.outputKey).toBe(`out/${jobId}.png`);
  expect(result.contentType).toBe('image/png');
  const output = await results.get(result.outputKey);
  const meta = await sharp(output).metadata();
  expect(meta.format).toBe('png');
  expect([meta.width, meta.height]).toEqual([result.width, result.height]);
  // The result went to the results bucket only; the uploads bucket has no out/.
  expect(await uploads.head(result.outputKey)).toBeNull();

  // Batch may start the container again for the same job; it finds the job finished and leaves it.
  const again = await worker(jobId);
  expect(again.stdout).toBe(`job ${jobId}: not run (job is SUCCEEDED)\n`);
  expect(again.code).toBe(0);
  expect((await jobs.get(jobId))?.updatedAt).toBe(job!.updatedAt);
});

test('a job whose input vanished fails with NOT_FOUND and a non-zero exit; a duplicate container leaves a running job alone', async () => {
  const jobId = await dropPhoto('gone.jpg', 'e-2');
  await uploads.delete('drop/starry/gone.jpg');
  const run = await worker(jobId);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(new RegExp(`^job ${jobId}: FAILED NOT_FOUND: `));
  expect(await jobs.get(jobId)).toMatchObject({ status: 'FAILED', error: { code: 'NOT_FOUND' } });

  const held = await dropPhoto('held.jpg', 'e-3');
  await jobs.transition(held, 'QUEUED', 'RUNNING');
  const duplicate = await worker(held, { AWS_BATCH_JOB_ATTEMPT: '1' });
  expect(duplicate.stdout).toBe(`job ${held}: not run (another container is running it)\n`);
  expect((await jobs.get(held))?.status).toBe('RUNNING');
});

test('the command names its flag when the job id is missing', async () => {
  const run = await worker('');
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/Usage: peerstyle worker --job-id <id>/);
});

test('a job submitted through the API reads its content and style from uploads/ in the uploads bucket', async () => {
  // The keys createUpload hands out; the worker must route them to the uploads bucket, not refuse them.
  await uploads.put('uploads/alice/photo-a', readFileSync(path.join(FIXTURES, 'photo-1.jpg')), {
    contentType: 'image/jpeg',
  });
  await uploads.put('uploads/alice/style-a', readFileSync(path.join(FIXTURES, 'painting-1.jpg')), {
    contentType: 'image/jpeg',
  });
  const { job } = await jobs.create({
    owner: 'alice',
    kind: 'STYLIZE',
    input: {
      contentKey: 'uploads/alice/photo-a',
      styles: [{ key: 'uploads/alice/style-a', weight: 1, styleId: null }],
      format: 'PNG',
    },
  });

  const run = await worker(job.id);
  expect(run.stdout).toBe(`job ${job.id}: SUCCEEDED\n`);
  expect(run.code).toBe(0);
  const result = (await jobs.get(job.id))!.result as { outputKey: string };
  expect((await sharp(await results.get(result.outputKey)).metadata()).format).toBe('png');
});

test('a preview goes to out/ in the results bucket beside the output, and the job names it', async () => {
  await uploads.put('uploads/alice/photo-p', readFileSync(path.join(FIXTURES, 'photo-1.jpg')), {
    contentType: 'image/jpeg',
  });
  await uploads.put('uploads/alice/style-p', readFileSync(path.join(FIXTURES, 'painting-1.jpg')), {
    contentType: 'image/jpeg',
  });
  const { job } = await jobs.create({
    owner: 'alice',
    kind: 'STYLIZE',
    input: {
      contentKey: 'uploads/alice/photo-p',
      styles: [{ key: 'uploads/alice/style-p', weight: 1, styleId: null }],
      format: 'PNG',
      // An 80×60 content: no preview by default, so ask for one (the result itself, as JPEG).
      preview: true,
    },
  });

  const run = await worker(job.id);
  expect(run.stdout).toBe(`job ${job.id}: SUCCEEDED\n`);
  const done = (await jobs.get(job.id))!;
  const result = done.result as { outputKey: string; width: number; height: number };
  expect(done.preview).toEqual({
    key: `out/${job.id}.preview.jpg`,
    width: result.width,
    height: result.height,
    contentType: 'image/jpeg',
  });
  const meta = await sharp(await results.get(done.preview!.key)).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', result.width, result.height]);
  expect((await results.head(done.preview!.key))?.contentType).toBe('image/jpeg');
  expect(await uploads.head(done.preview!.key)).toBeNull();
});
