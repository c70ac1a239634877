/**
 * The AWS Batch and SageMaker launchers and the WebSocket publisher.
 *
 * These services have no local implementation of their protocol on this machine, so their clients are
 * replaced with aws-sdk-client-mock: the tests check the exact requests the adapters build (the job id
 * parameter, the SageMaker channels, checkpoint folder, spot limits, string hyperparameters and metric
 * definitions) and how service errors are translated, not the services themselves.
 */

import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { BatchClient, ClientException, SubmitJobCommand } from '@aws-sdk/client-batch';
import {
  CreateTrainingJobCommand,
  ResourceInUse,
  SageMakerClient,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchStylizeLauncher,
  SageMakerTrainingLauncher,
  SageMakerTrainingStopper,
  WebSocketPublisher,
  type SageMakerTrainingLauncherOptions,
} from '../../../../functions/adapters/aws';
import { BLOB_PREFIXES, ErrorCode } from '../../../../functions/core';
import { scrapeMetrics, TRAINING_METRIC_DEFINITIONS } from '../../../../infra/lib/training-metrics';
import { expectDomainError } from '../../../support/expect-domain-error';
import { at } from '../../../support/checked';

const throttled = Object.assign(new Error('Rate exceeded'), {
  name: 'ThrottlingException',
  $metadata: { httpStatusCode: 400 },
});

describe('BatchStylizeLauncher (Batch mocked)', () => {
  const batch = mockClient(BatchClient);
  const launcher = new BatchStylizeLauncher({
    client: new BatchClient({ region: 'us-east-1' }),
    jobQueue: 'gpu-queue',
    jobDefinition: 'stylize:3',
  });
  beforeEach(() => batch.reset());

  test('submits one job with the job id as its parameter', async () => {
    batch.on(SubmitJobCommand).resolves({ jobId: 'batch-123', jobName: 'stylize-job-1', jobArn: 'arn' });
    expect(await launcher.launch('job-1')).toEqual({ batchJobId: 'batch-123', batchJobName: 'stylize-job-1' });
    const calls = batch.commandCalls(SubmitJobCommand);
    expect(calls).toHaveLength(1);
    expect(at(calls, 0).args[0].input).toMatchObject({
      jobName: 'stylize-job-1',
      jobQueue: 'gpu-queue',
      jobDefinition: 'stylize:3',
      parameters: { jobId: 'job-1' },
    });
  });

  test('job ids with characters Batch refuses in names are cleaned in the name but passed intact', async () => {
    batch.on(SubmitJobCommand).resolves({ jobId: 'b', jobName: 'x' });
    await launcher.launch('a:b/c.d');
    const input = at(batch.commandCalls(SubmitJobCommand), 0).args[0].input;
    expect(input.jobName).toBe('stylize-a-b-c-d');
    expect(input.parameters).toEqual({ jobId: 'a:b/c.d' });
  });

  test('throttling is UNAVAILABLE, a refused submission INTERNAL', async () => {
    batch
      .on(SubmitJobCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(new ClientException({ message: 'no such queue', $metadata: {} }));
    await expectDomainError(launcher.launch('job-2'), ErrorCode.UNAVAILABLE);
    const refused = await expectDomainError(launcher.launch('job-2'), ErrorCode.INTERNAL);
    expect(refused.message).toContain('no such queue');
  });
});

describe('SageMakerTrainingLauncher (SageMaker mocked)', () => {
  const sagemaker = mockClient(SageMakerClient);
  const base: SageMakerTrainingLauncherOptions = {
    client: new SageMakerClient({ region: 'us-east-1' }),
    trainingImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/peerstyle-trainer:1',
    roleArn: 'arn:aws:iam::123456789012:role/trainer',
    datasetsBucket: 'datasets-bucket',
    modelsBucket: 'models-bucket',
    metricDefinitions: TRAINING_METRIC_DEFINITIONS,
    maxRuntimeSeconds: 3600,
    maxWaitSeconds: 7200,
  };
  beforeEach(() => {
    sagemaker.reset();
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:1:training-job/x' });
  });

  test('creates a managed-spot job with /opt/ml channels, checkpoints, string hyperparameters and metrics', async () => {
    const started = await new SageMakerTrainingLauncher(base).launch({
      jobId: 'job-7',
      dataset: 'user-1/portraits',
      hyperparameters: { preset: 'small', steps: 2000, resume: true },
    });
    expect(started).toEqual({
      trainingJobName: 'peerstyle-job-7',
      trainingJobArn: 'arn:aws:sagemaker:us-east-1:1:training-job/x',
    });
    const input = at(sagemaker.commandCalls(CreateTrainingJobCommand), 0).args[0].input;
    expect(input.AlgorithmSpecification).toMatchObject({
      TrainingImage: base.trainingImage,
      TrainingInputMode: 'File',
    });
    expect(input.AlgorithmSpecification?.MetricDefinitions).toEqual(TRAINING_METRIC_DEFINITIONS);
    expect(input.HyperParameters).toEqual({ preset: 'small', steps: '2000', resume: 'true' });
    expect(input.InputDataConfig).toEqual([
      expect.objectContaining({
        ChannelName: 'training',
        DataSource: {
          S3DataSource: expect.objectContaining({
            S3Uri: `s3://datasets-bucket/${BLOB_PREFIXES.datasets}user-1/portraits/`,
          }),
        },
      }),
    ]);
    expect(input.CheckpointConfig).toEqual({
      S3Uri: `s3://models-bucket/${BLOB_PREFIXES.checkpoints}job-7/`,
      LocalPath: '/opt/ml/checkpoints',
    });
    expect(input.OutputDataConfig?.S3OutputPath).toBe(`s3://models-bucket/${BLOB_PREFIXES.trainingOutput}`);
    expect(input.EnableManagedSpotTraining).toBe(true);
    expect(input.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 });
    expect(input.RoleArn).toBe(base.roleArn);
  });

  test('the metric definitions it sends read the values of a real trainer line', () => {
    const values = scrapeMetrics('METRIC step=120 loss_idt=0.0412 loss_adv_g=0.98 loss_d=0.51 it_per_s=0.42');
    expect(values).toEqual({
      'train:step': 120,
      'train:loss_idt': 0.0412,
      'train:loss_adv_g': 0.98,
      'train:loss_d': 0.51,
      'train:it_per_s': 0.42,
    });
  });

  test('spot training refuses a wait shorter than the runtime; on-demand sends no wait at all', async () => {
    expect(() => new SageMakerTrainingLauncher({ ...base, maxWaitSeconds: 1800 })).toThrow(/maxWaitSeconds/);
    await new SageMakerTrainingLauncher({ ...base, useSpot: false, maxWaitSeconds: undefined }).launch({
      jobId: 'job-8',
      dataset: 'd',
      hyperparameters: {},
    });
    const input = at(sagemaker.commandCalls(CreateTrainingJobCommand), 0).args[0].input;
    expect(input.EnableManagedSpotTraining).toBe(false);
    expect(input.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
  });

  test('names fit SageMaker’s rules, dataset paths cannot climb, an existing job is CONFLICT', async () => {
    const launcher = new SageMakerTrainingLauncher({ ...base, jobNamePrefix: 'ps' });
    const long = `${'x'.repeat(70)}`;
    const started = await launcher.launch({ jobId: `a_b.${long}`, dataset: 'd', hyperparameters: {} });
    expect(started.trainingJobName).toMatch(/^[A-Za-z0-9](-?[A-Za-z0-9])*$/);
    expect(started.trainingJobName.length).toBeLessThanOrEqual(63);
    await expectDomainError(
      launcher.launch({ jobId: 'j', dataset: '../other-user', hyperparameters: {} }),
      ErrorCode.BAD_REQUEST,
    );
    sagemaker.on(CreateTrainingJobCommand).rejects(new ResourceInUse({ message: 'exists', $metadata: {} }));
    await expectDomainError(launcher.launch({ jobId: 'j', dataset: 'd', hyperparameters: {} }), ErrorCode.CONFLICT);
  });
});

describe('SageMakerTrainingStopper (SageMaker mocked)', () => {
  const sageMaker = mockClient(SageMakerClient);
  const stopper = new SageMakerTrainingStopper({
    client: new SageMakerClient({ region: 'us-east-1' }),
    jobNamePrefix: 'peerstyle',
  });
  beforeEach(() => sageMaker.reset());
  afterAll(() => sageMaker.restore());

  test('stops the run named as the launcher names it', async () => {
    sageMaker.on(StopTrainingJobCommand).resolves({});
    await stopper.stop('job_1');
    expect(sageMaker.commandCalls(StopTrainingJobCommand).map((c) => c.args[0].input)).toEqual([
      { TrainingJobName: 'peerstyle-job-1' },
    ]);
  });

  test('a run that already ended or never started counts as stopped; throttling is UNAVAILABLE', async () => {
    const ended = Object.assign(new Error('Training job is not in progress'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    const missing = Object.assign(new Error('Not found'), {
      name: 'ResourceNotFound',
      $metadata: { httpStatusCode: 400 },
    });
    sageMaker.on(StopTrainingJobCommand).rejectsOnce(ended).rejectsOnce(missing).rejectsOnce(throttled);
    await stopper.stop('j2');
    await stopper.stop('j3');
    await expectDomainError(stopper.stop('j4'), ErrorCode.UNAVAILABLE);
    expect(sageMaker.commandCalls(StopTrainingJobCommand)).toHaveLength(3);
  });
});

describe('WebSocketPublisher (API Gateway management API mocked)', () => {
  const api = mockClient(ApiGatewayManagementApiClient);
  const removed: string[] = [];
  const publisher = new WebSocketPublisher({
    client: new ApiGatewayManagementApiClient({
      region: 'us-east-1',
      endpoint: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
    }),
    connections: { remove: async (id) => void removed.push(id) },
  });
  beforeEach(() => {
    api.reset();
    removed.length = 0;
  });

  test('posts the message as JSON text to the connection', async () => {
    api.on(PostToConnectionCommand).resolves({});
    expect(await publisher.publish('conn-1', { type: 'next', payload: { status: 'RUNNING' } })).toBe('sent');
    const input = at(api.commandCalls(PostToConnectionCommand), 0).args[0].input;
    expect(input.ConnectionId).toBe('conn-1');
    expect(JSON.parse(new TextDecoder().decode(input.Data as Uint8Array))).toEqual({
      type: 'next',
      payload: { status: 'RUNNING' },
    });
    expect(removed).toEqual([]);
  });

  test('a gone connection is removed, and the others still get the message', async () => {
    api.on(PostToConnectionCommand).resolves({});
    api
      .on(PostToConnectionCommand, { ConnectionId: 'stale' })
      .rejects(new GoneException({ message: 'gone', $metadata: {} }));
    expect(await publisher.publishToAll(['a', 'stale', 'b'], { type: 'complete' })).toEqual(['stale']);
    expect(removed).toEqual(['stale']);
    expect(api.commandCalls(PostToConnectionCommand)).toHaveLength(3);
  });

  test('other failures are translated and remove nothing', async () => {
    api.on(PostToConnectionCommand).rejects(throttled);
    await expectDomainError(publisher.publish('conn-2', {}), ErrorCode.UNAVAILABLE);
    expect(removed).toEqual([]);
  });
});
