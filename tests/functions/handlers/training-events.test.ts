/**
 * The training events function: EventBridge "SageMaker Training Job State Change" events move TRAIN
 * jobs through the real jobs table, unpack finished runs' model.tar.gz into the real models bucket and
 * register them in the real catalog table (dynalite and s3rver on loopback, configured through the
 * environment the stack sets); the stylize worker's catalog then resolves the trained model. EventBridge has no local
 * implementation; the events are written here in the shape SageMaker emits and passed to the handler
 * as the Lambda target would pass them, and no AWS API is called to deliver them.
 */

import type { EventBridgeEvent } from 'aws-lambda';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamJobEvents } from '../../../functions/adapters/aws';
import { DomainError, ErrorCode, MAX_JOB_MESSAGES, type BlobStore, type JobStore } from '../../../functions/core';
import { handler } from '../../../functions/handlers/training-events';
import {
  applyTrainingState,
  archiveKeyFor,
  type TrainingStateDeps,
} from '../../../functions/handlers/events/apply-training-state';
import { BucketModelCatalog, DEFAULT_PACKAGE_PREFIX } from '../../../functions/handlers/events/bucket-model-catalog';
import { BlobModelCache } from '../../../functions/worker/blob-model-cache';
import {
  parseTrainingStateChange,
  TRAINING_JOB_PREFIX,
  TRAINING_STATE_CHANGE,
} from '../../../functions/handlers/events/training-state-change';
import {
  TRAINING_JOB_PREFIX as STACK_PREFIX,
  TRAINING_STATE_CHANGE as STACK_DETAIL_TYPE,
} from '../../../infra/lib/training';
import { createTrainJob, modelArchive, startTrainingTables, type TrainingTables } from './training-support';
import { at } from '../../support/checked';

let tables: TrainingTables;
const savedEnv = { ...process.env };

beforeAll(async () => {
  tables = await startTrainingTables();
  Object.assign(process.env, tables.env);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterAll(async () => {
  process.env = savedEnv;
  jest.restoreAllMocks();
  await tables?.stop();
});

let eventCounter = 0;

/** An event in the shape SageMaker sends; tags are left out unless given, as the name suffices. */
function stateChange(
  jobId: string,
  status: string,
  extra: Record<string, unknown> = {},
): EventBridgeEvent<typeof TRAINING_STATE_CHANGE, unknown> {
  eventCounter += 1;
  const name = `peerstyle-${jobId}`;
  return {
    version: '0',
    id: `evt-${eventCounter}`,
    'detail-type': TRAINING_STATE_CHANGE,
    source: 'aws.sagemaker',
    account: '123456789012',
    time: '2026-11-27T10:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`],
    detail: { TrainingJobName: name, TrainingJobStatus: status, ...extra },
  };
}

/** The function's own dependencies over the emulators, with `jobs` (and `blobs`) replaced where a test says. */
function depsWith(parts: { jobs?: JobStore; blobs?: BlobStore } = {}): TrainingStateDeps {
  return {
    jobs: parts.jobs ?? tables.jobs,
    events: new StreamJobEvents(),
    models: tables.models,
    blobs: parts.blobs ?? tables.modelsBucket,
  };
}

/** The models an owner has registered (the built-in one left out). */
async function modelsOf(owner: string) {
  return (await tables.models.list(owner, { limit: 10 })).items.filter((m) => m.owner === owner);
}

const completed = (jobId: string) =>
  stateChange(jobId, 'Completed', {
    SecondaryStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: `s3://models-bucket/training-output/peerstyle-${jobId}/output/model.tar.gz` },
  });

/** Puts the run's artifact where SageMaker writes it, so that Completed can publish it. */
async function uploadArtifact(jobId: string, options: { manifest?: boolean } = {}): Promise<void> {
  await tables.modelsBucket.put(`training-output/peerstyle-${jobId}/output/model.tar.gz`, modelArchive(options));
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await tables.modelsBucket.list({ prefix, limit: 100 })).items
    .map((item) => item.key.slice(prefix.length))
    .sort();
}

test('the function and the stack agree on the detail type and the run name prefix', () => {
  expect(TRAINING_STATE_CHANGE).toBe(STACK_DETAIL_TYPE);
  expect(TRAINING_JOB_PREFIX).toBe(STACK_PREFIX);
});

test('a run that starts, trains and completes takes its job to SUCCEEDED with one registered model', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-a');

  expect(await handler(stateChange(job.id, 'InProgress', { SecondaryStatus: 'Starting' }))).toMatchObject({
    action: 'started',
  });
  expect(await tables.jobs.get(job.id)).toMatchObject({ status: 'RUNNING', stage: 'Starting', attempts: 1 });
  expect(await handler(stateChange(job.id, 'InProgress', { SecondaryStatus: 'Training' }))).toMatchObject({
    action: 'progress',
  });
  expect((await tables.jobs.get(job.id))?.stage).toBe('Training');
  // The same event again changes nothing.
  expect(await handler(stateChange(job.id, 'InProgress', { SecondaryStatus: 'Training' }))).toMatchObject({
    action: 'ignored',
  });

  await uploadArtifact(job.id);
  const done = await handler(completed(job.id));
  expect(done).toMatchObject({ action: 'succeeded' });
  const finished = await tables.jobs.get(job.id);
  expect(finished?.status).toBe('SUCCEEDED');
  const { modelId } = finished!.result as { modelId: string };
  const model = await tables.models.get(modelId, 'owner-a');
  expect(model).toMatchObject({
    name: 'portraits',
    version: 1,
    owner: 'owner-a',
    packagePrefix: `models/${modelId}/1/`,
    manifest: { preset: 'tiny', steps: 120, trainingJobName: `peerstyle-${job.id}` },
  });
  // The package is unpacked file by file: what its manifest lists (weights not listed stay in the artifact).
  expect(await keysUnder(`models/${modelId}/1/`)).toEqual([
    'decoder.onnx',
    'encoder.onnx',
    'manifest.json',
    'tpfr.onnx',
  ]);

  // The stylize worker resolves the trained model through the catalog and downloads its package.
  const catalog = new BucketModelCatalog(tables.modelsBucket, DEFAULT_PACKAGE_PREFIX, tables.models);
  const resolved = await catalog.get(modelId, 'owner-a');
  expect(resolved?.packagePrefix).toBe(`models/${modelId}/1/`);
  expect(await catalog.get(modelId, 'someone-else')).toBeNull();
  const cache = new BlobModelCache(tables.modelsBucket, catalog, mkdtempSync(join(tmpdir(), 'peerstyle-cache-')));
  const dir = await cache.dirFor(resolved!);
  expect(readdirSync(dir).sort()).toEqual(['decoder.onnx', 'encoder.onnx', 'manifest.json', 'tpfr.onnx']);

  // Redelivered Completed events, and a late InProgress, leave the job and the registry as they are.
  expect(await handler(completed(job.id))).toMatchObject({ action: 'ignored', reason: 'job is already SUCCEEDED' });
  expect(await handler(stateChange(job.id, 'InProgress'))).toMatchObject({ action: 'ignored' });
  const models = await tables.models.list('owner-a', { limit: 10 });
  expect(models.items.filter((m) => m.owner === 'owner-a')).toHaveLength(1);
  expect((await tables.jobs.get(job.id))?.updatedAt).toBe(finished!.updatedAt);
});

test('a Completed event that overtakes InProgress still finishes the job', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-b');
  await uploadArtifact(job.id);
  await handler(completed(job.id));
  expect(await tables.jobs.get(job.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
});

/** The real job store, except that its first move to SUCCEEDED fails as if DynamoDB were unreachable. */
function failingFirstSuccess(): JobStore {
  let failOnce = true;
  const flaky: JobStore = Object.create(tables.jobs) as JobStore;
  flaky.transition = async (id, from, to, patch) => {
    if (to === 'SUCCEEDED' && failOnce) {
      failOnce = false;
      throw new DomainError(ErrorCode.UNAVAILABLE, 'DynamoDB is unreachable.');
    }
    return tables.jobs.transition(id, from, to, patch);
  };
  return flaky;
}

test('a retry after a failure between registering and finishing registers no second model', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-c');
  await uploadArtifact(job.id);
  const flaky = failingFirstSuccess();
  const deps = depsWith({ jobs: flaky });
  const change = parseTrainingStateChange(completed(job.id));
  await expect(applyTrainingState(deps, change)).rejects.toThrow('DynamoDB is unreachable.');
  expect((await tables.jobs.get(job.id))?.status).toBe('RUNNING');

  await applyTrainingState(deps, change);
  const finished = await tables.jobs.get(job.id);
  expect(finished?.status).toBe('SUCCEEDED');
  const owned = (await tables.models.list('owner-c', { limit: 10 })).items.filter((m) => m.owner === 'owner-c');
  expect(owned.map((m) => m.id)).toEqual([(finished!.result as { modelId: string }).modelId]);
  expect(await keysUnder('models/')).not.toContainEqual(expect.stringMatching(/^[^/]+\/2\//));
});

test('a retry after the package was copied but before it was recorded publishes the same model once', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-f');
  await uploadArtifact(job.id);
  // The first publish succeeds in the registry, then the job store fails to record it.
  let failOnce = true;
  const flaky: JobStore = Object.create(tables.jobs) as JobStore;
  flaky.updateProgress = async (id, patch) => {
    if (failOnce && patch.message?.text.startsWith('Registered model')) {
      failOnce = false;
      throw new DomainError(ErrorCode.UNAVAILABLE, 'DynamoDB is unreachable.');
    }
    return tables.jobs.updateProgress(id, patch);
  };
  const deps = depsWith({ jobs: flaky });
  const change = parseTrainingStateChange(completed(job.id));
  await expect(applyTrainingState(deps, change)).rejects.toThrow('DynamoDB is unreachable.');
  await applyTrainingState(deps, change);
  const owned = (await tables.models.list('owner-f', { limit: 10 })).items.filter((m) => m.owner === 'owner-f');
  expect(owned).toHaveLength(1);
  const finished = await tables.jobs.get(job.id);
  expect(finished?.status).toBe('SUCCEEDED');
  expect(owned[0]).toMatchObject({ id: (finished!.result as { modelId: string }).modelId, version: 1 });
});

test('a Completed event applied again registers one model, even when the job no longer shows its earlier messages', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-h');
  await uploadArtifact(job.id);
  // The first delivery registers the model, then cannot finish the job.
  const flaky = failingFirstSuccess();
  await expect(
    applyTrainingState(depsWith({ jobs: flaky }), parseTrainingStateChange(completed(job.id))),
  ).rejects.toThrow('DynamoDB is unreachable.');
  const registered = await modelsOf('owner-h');
  expect(registered).toHaveLength(1);
  // Later lines push every message about the model out of the job's bounded message list.
  for (let i = 0; i < MAX_JOB_MESSAGES; i += 1) {
    await tables.jobs.updateProgress(job.id, { message: { level: 'INFO', text: `log line ${i}` } });
  }
  expect((await tables.jobs.get(job.id))?.messages.filter((m) => /model/i.test(m.text))).toEqual([]);

  // EventBridge redelivers the same event to the function.
  expect(await handler(completed(job.id))).toMatchObject({ action: 'succeeded' });
  const finished = await tables.jobs.get(job.id);
  expect(finished).toMatchObject({ status: 'SUCCEEDED', result: { modelId: registered[0]!.id } });
  expect((await modelsOf('owner-h')).map((m) => m.id)).toEqual([registered[0]!.id]);
  expect(await keysUnder(`models/${registered[0]!.id}/`)).toEqual([
    '1/decoder.onnx',
    '1/encoder.onnx',
    '1/manifest.json',
    '1/tpfr.onnx',
  ]);
});

test('an artifact without a model package fails the delivery and leaves the job running for a retry', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-g');
  await uploadArtifact(job.id, { manifest: false });
  await expect(handler(completed(job.id))).rejects.toThrow(/holds no manifest\.json/);
  expect((await tables.jobs.get(job.id))?.status).toBe('RUNNING');
  expect((await tables.models.list('owner-g', { limit: 10 })).items.filter((m) => m.owner === 'owner-g')).toEqual([]);
});

test('Failed fails the job with the reason; Stopped cancels it only when its owner asked', async () => {
  const failing = await createTrainJob(tables.jobs, 'owner-d');
  await handler(stateChange(failing.id, 'InProgress'));
  await handler(stateChange(failing.id, 'Failed', { FailureReason: 'AlgorithmError: loss is NaN' }));
  expect(await tables.jobs.get(failing.id)).toMatchObject({
    status: 'FAILED',
    error: { code: 'INTERNAL', message: `Training run peerstyle-${failing.id} failed: AlgorithmError: loss is NaN` },
  });

  const capacity = await createTrainJob(tables.jobs, 'owner-d');
  await handler(stateChange(capacity.id, 'Failed', { FailureReason: 'CapacityError: not enough capacity' }));
  expect((await tables.jobs.get(capacity.id))?.error?.code).toBe('UNAVAILABLE');

  const cancelled = await createTrainJob(tables.jobs, 'owner-d');
  await handler(stateChange(cancelled.id, 'InProgress'));
  await tables.jobs.requestCancel(cancelled.id);
  await handler(stateChange(cancelled.id, 'Stopping'));
  expect((await tables.jobs.get(cancelled.id))?.stage).toBe('stopping');
  await handler(stateChange(cancelled.id, 'Stopped', { SecondaryStatus: 'Stopped' }));
  expect(await tables.jobs.get(cancelled.id)).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });

  const limited = await createTrainJob(tables.jobs, 'owner-d');
  await handler(stateChange(limited.id, 'InProgress'));
  await handler(stateChange(limited.id, 'Stopped', { SecondaryStatus: 'MaxWaitTimeExceeded' }));
  expect(await tables.jobs.get(limited.id)).toMatchObject({
    status: 'FAILED',
    error: { message: expect.stringContaining('MaxWaitTimeExceeded') },
  });
});

test('the job id comes from the run tag when present; other runs and malformed events are dropped', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-e');
  const tagged = stateChange('renamed', 'InProgress', { Tags: { 'peerstyle:job-id': job.id } });
  expect(await handler(tagged)).toMatchObject({ action: 'started', jobId: job.id });

  const foreign = stateChange('x', 'InProgress');
  (foreign.detail as Record<string, unknown>).TrainingJobName = 'someone-elses-run';
  expect(await handler(foreign)).toMatchObject({ action: 'dropped' });
  expect(await handler(stateChange(job.id, 'Exploded'))).toMatchObject({
    action: 'dropped',
    reason: expect.stringContaining('Expected one of: InProgress'),
  });
  expect(await handler(stateChange('no-such-job', 'InProgress'))).toMatchObject({
    action: 'ignored',
    reason: 'no such job',
  });
});

test('the archive key is the artifact’s key, or the run’s default artifact without one', () => {
  const change = parseTrainingStateChange(completed('j1'));
  expect(archiveKeyFor(change)).toBe('training-output/peerstyle-j1/output/model.tar.gz');
  expect(archiveKeyFor({ ...change, modelArtifacts: null, trainingJobName: 'peerstyle-j2' })).toBe(
    'training-output/peerstyle-j2/output/model.tar.gz',
  );
});

test('a package that lists its weights is published with them, manifest last', async () => {
  const job = await createTrainJob(tables.jobs, 'owner-i');
  await tables.modelsBucket.put(
    `training-output/peerstyle-${job.id}/output/model.tar.gz`,
    modelArchive({ listsWeights: true }),
  );
  // The real bucket, with the order of its writes noted.
  const written: string[] = [];
  const bucket: BlobStore = Object.create(tables.modelsBucket) as BlobStore;
  bucket.put = async (key, body, options) => {
    written.push(key);
    return tables.modelsBucket.put(key, body, options);
  };
  await applyTrainingState(depsWith({ blobs: bucket }), parseTrainingStateChange(completed(job.id)));
  const model = at(await modelsOf('owner-i'), 0);
  const published = ['decoder.onnx', 'encoder.onnx', 'manifest.json', 'tpfr.onnx', 'weights.bin', 'weights.json'];
  expect(await keysUnder(model.packagePrefix)).toEqual(published);
  expect(written.map((key) => key.slice(model.packagePrefix.length)).sort()).toEqual(published);
  expect(written.at(-1)).toBe(`${model.packagePrefix}manifest.json`);
  expect(model.manifest).toMatchObject({ format: 'onnx-package', files: published });
});
