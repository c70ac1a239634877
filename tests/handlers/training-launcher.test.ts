/**
 * The training launcher function: a TRAIN job id in, a SageMaker training job out. The jobs table is
 * real (dynalite on loopback, configured through the environment the stack sets); SageMaker has no
 * local implementation, so its client is replaced with aws-sdk-client-mock and the tests assert the
 * CreateTrainingJob request the launcher makes.
 */

import { CreateTrainingJobCommand, ResourceInUse, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { ErrorCode } from '../../functions/core';
import { handler } from '../../functions/handlers/training-launcher';
import { TRAINING_METRIC_DEFINITIONS } from '../../infra/lib/training-metrics';
import { expectDomainError } from '../contract/expect-domain-error';
import { createTrainJob, startTrainingTables, type TrainingTables } from './training-support';

const sagemaker = mockClient(SageMakerClient);
let tables: TrainingTables;
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
  Object.assign(process.env, tables.env);
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
  const [call] = sagemaker.commandCalls(CreateTrainingJobCommand);
  expect(call.args[0].input).toMatchObject({
    TrainingJobName: `peerstyle-${job.id}`,
    RoleArn: 'arn:aws:iam::123456789012:role/training',
    HyperParameters: { lr: '0.0002', preset: 'tiny', steps: '120' },
    EnableManagedSpotTraining: true,
    StoppingCondition: { MaxRuntimeInSeconds: 28800, MaxWaitTimeInSeconds: 57600 },
    OutputDataConfig: { S3OutputPath: 's3://models-bucket/training-output/' },
    Tags: [{ Key: 'peerstyle:job-id', Value: job.id }],
  });
  expect(call.args[0].input.InputDataConfig?.[0].DataSource?.S3DataSource?.S3Uri).toBe(
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

test('a dataset the training channel cannot reach fails the job without calling SageMaker', async () => {
  const job = await createTrainJob(tables.jobs, 'user-2', { dataset: { uploadPrefix: 'uploads/user-2/set/' } });
  const result = await handler({ jobId: job.id });
  expect(result.status).toBe('failed');
  expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  expect(await tables.jobs.get(job.id)).toMatchObject({ status: 'FAILED', error: { code: 'BAD_REQUEST' } });
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
