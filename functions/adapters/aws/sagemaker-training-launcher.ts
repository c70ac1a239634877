/**
 * `SageMakerTrainingLauncher`: starts one TSPR training run as a SageMaker training job.
 *
 * The trainer container speaks SageMaker's contract, so the job is assembled from it: the dataset
 * prefix is the `training` channel (mounted at /opt/ml/input/data/training), checkpoints go to a
 * folder per platform job (mounted at /opt/ml/checkpoints, so a retried or interrupted spot run
 * resumes), the model artifact goes to the training-output prefix, hyperparameters are strings, and the
 * metric definitions turn the trainer's METRIC lines into CloudWatch metrics. Managed spot training
 * needs MaxWaitTimeInSeconds of at least MaxRuntimeInSeconds, since waiting for capacity counts too.
 * This is the only module that imports the SageMaker SDK.
 */

import {
  CreateTrainingJobCommand,
  SageMakerClient,
  StopTrainingJobCommand,
  type TrainingInstanceType,
} from '@aws-sdk/client-sagemaker';
import type { TrainingStopper } from '../../core/ports/training-stopper';
import { BLOB_PREFIXES, DomainError, ErrorCode } from '../../core';
import type { AwsClientConfig } from './aws-client-config';
import { awsErrorName, translateAwsError } from './aws-errors';

/** Builds a SageMaker client for AWS (no options) or for another endpoint. */
export function createSageMakerClient(config: AwsClientConfig = {}): SageMakerClient {
  return new SageMakerClient({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
  });
}

/** A SageMaker metric definition: a CloudWatch name and a regex whose first group is the value. */
export interface TrainingMetricDefinition {
  readonly Name: string;
  readonly Regex: string;
}

/** Options for `SageMakerTrainingLauncher`. */
export interface SageMakerTrainingLauncherOptions {
  client: SageMakerClient;
  /** The trainer image URI (env PEERSTYLE_TRAINING_IMAGE_URI). */
  trainingImage: string;
  /** The execution role SageMaker assumes (env PEERSTYLE_TRAINING_ROLE_ARN). */
  roleArn: string;
  /** Bucket holding datasets under `datasets/` (env PEERSTYLE_DATASETS_BUCKET). */
  datasetsBucket: string;
  /** Bucket receiving checkpoints and model artifacts (env PEERSTYLE_MODELS_BUCKET). */
  modelsBucket: string;
  /** The metric definitions (env PEERSTYLE_TRAINING_METRIC_DEFINITIONS). */
  metricDefinitions: readonly TrainingMetricDefinition[];
  /** @default 'ml.g5.xlarge' */
  instanceType?: string;
  /** Use managed spot capacity. @default true */
  useSpot?: boolean;
  /** Longest the run may train. @default 86400 (1 day) */
  maxRuntimeSeconds?: number;
  /** Longest to wait for spot capacity plus train; must be ≥ maxRuntimeSeconds. @default 2 × maxRuntimeSeconds */
  maxWaitSeconds?: number;
  /** Training job name prefix (env PEERSTYLE_TRAINING_JOB_PREFIX). @default 'peerstyle' */
  jobNamePrefix?: string;
  /** Volume for the dataset copy and checkpoints, in GB. @default 50 */
  volumeSizeGb?: number;
}

/** One training run to start. */
export interface TrainingJobRequest {
  /** The platform job this run belongs to. */
  jobId: string;
  /** The dataset folder under `datasets/` in the datasets bucket, e.g. "user-1/portraits". */
  dataset: string;
  /** Hyperparameters; numbers and booleans are sent as strings, as SageMaker requires. */
  hyperparameters: Readonly<Record<string, string | number | boolean>>;
}

/** What SageMaker answered. */
export interface TrainingJobStarted {
  trainingJobName: string;
  trainingJobArn: string;
}

/** SageMaker names: 1..63 characters, letters, digits and single hyphens, starting alphanumeric. */
function trainingJobName(prefix: string, jobId: string): string {
  const name = `${prefix}-${jobId}`
    .replace(/[^A-Za-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '');
  return name.slice(0, 63).replace(/-+$/, '');
}

function positiveInteger(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `${what} must be a positive integer, got ${value}.`, { field: what });
  }
  return value;
}

/** Starts training runs on SageMaker. */
export class SageMakerTrainingLauncher {
  private readonly maxRuntime: number;
  private readonly maxWait: number;
  private readonly useSpot: boolean;

  constructor(private readonly options: SageMakerTrainingLauncherOptions) {
    this.maxRuntime = positiveInteger('maxRuntimeSeconds', options.maxRuntimeSeconds ?? 86_400);
    this.maxWait = positiveInteger('maxWaitSeconds', options.maxWaitSeconds ?? 2 * this.maxRuntime);
    this.useSpot = options.useSpot ?? true;
    if (this.useSpot && this.maxWait < this.maxRuntime) {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `maxWaitSeconds (${this.maxWait}) must be at least maxRuntimeSeconds (${this.maxRuntime}) for spot training.`,
        { field: 'maxWaitSeconds' },
      );
    }
  }

  /** Creates the training job; BAD_REQUEST for an unusable dataset path, CONFLICT if the job exists. */
  async launch(request: TrainingJobRequest): Promise<TrainingJobStarted> {
    const dataset = request.dataset.replace(/^\/+|\/+$/g, '');
    if (dataset.length === 0 || dataset.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `Invalid dataset "${request.dataset}": use a folder such as "user-1/portraits".`,
        {
          field: 'dataset',
        },
      );
    }
    const { options } = this;
    const name = trainingJobName(options.jobNamePrefix ?? 'peerstyle', request.jobId);
    const hyperparameters = Object.fromEntries(
      Object.entries(request.hyperparameters).map(([key, value]) => [key, String(value)]),
    );
    try {
      const response = await options.client.send(
        new CreateTrainingJobCommand({
          TrainingJobName: name,
          RoleArn: options.roleArn,
          AlgorithmSpecification: {
            TrainingImage: options.trainingImage,
            TrainingInputMode: 'File',
            MetricDefinitions: options.metricDefinitions.map(({ Name, Regex }) => ({ Name, Regex })),
          },
          HyperParameters: hyperparameters,
          InputDataConfig: [
            {
              ChannelName: 'training',
              DataSource: {
                S3DataSource: {
                  S3DataType: 'S3Prefix',
                  S3Uri: `s3://${options.datasetsBucket}/${BLOB_PREFIXES.datasets}${dataset}/`,
                  S3DataDistributionType: 'FullyReplicated',
                },
              },
            },
          ],
          OutputDataConfig: { S3OutputPath: `s3://${options.modelsBucket}/${BLOB_PREFIXES.trainingOutput}` },
          // Per platform job, not per training job: a relaunch after a failure resumes the same run.
          CheckpointConfig: {
            S3Uri: `s3://${options.modelsBucket}/${BLOB_PREFIXES.checkpoints}${request.jobId}/`,
            LocalPath: '/opt/ml/checkpoints',
          },
          ResourceConfig: {
            InstanceType: (options.instanceType ?? 'ml.g5.xlarge') as TrainingInstanceType,
            InstanceCount: 1,
            VolumeSizeInGB: options.volumeSizeGb ?? 50,
          },
          EnableManagedSpotTraining: this.useSpot,
          StoppingCondition: {
            MaxRuntimeInSeconds: this.maxRuntime,
            ...(this.useSpot && { MaxWaitTimeInSeconds: this.maxWait }),
          },
          Tags: [{ Key: 'peerstyle:job-id', Value: request.jobId }],
        }),
      );
      return { trainingJobName: name, trainingJobArn: response.TrainingJobArn ?? '' };
    } catch (error) {
      if (awsErrorName(error) === 'ResourceInUse') {
        throw new DomainError(
          ErrorCode.CONFLICT,
          `Training job ${name} already exists.`,
          { trainingJobName: name },
          { cause: error },
        );
      }
      if (awsErrorName(error) === 'ResourceLimitExceeded') {
        throw new DomainError(
          ErrorCode.RATE_LIMITED,
          `SageMaker has no capacity left for ${name}; try later.`,
          undefined,
          { cause: error },
        );
      }
      throw translateAwsError(error, `Creating training job ${name}`);
    }
  }
}

/** Options for `SageMakerTrainingStopper`. */
export interface SageMakerTrainingStopperOptions {
  client: SageMakerClient;
  /** The launcher's training job name prefix (env PEERSTYLE_TRAINING_JOB_PREFIX). @default 'peerstyle' */
  jobNamePrefix?: string;
}

/**
 * Stops a job's SageMaker training run with StopTrainingJob. The run's name is derived from the job id
 * exactly as the launcher names it, so no lookup is needed. SageMaker answers ValidationException for
 * a run that is no longer in progress (already stopping, stopped, completed or failed) and
 * ResourceNotFound for one that never started; both mean there is nothing left to stop.
 */
export class SageMakerTrainingStopper implements TrainingStopper {
  constructor(private readonly options: SageMakerTrainingStopperOptions) {}

  async stop(jobId: string): Promise<void> {
    const name = trainingJobName(this.options.jobNamePrefix ?? 'peerstyle', jobId);
    try {
      await this.options.client.send(new StopTrainingJobCommand({ TrainingJobName: name }));
    } catch (error) {
      const code = awsErrorName(error);
      if (code === 'ValidationException' || code === 'ResourceNotFound') return;
      throw translateAwsError(error, `Stopping training run ${name}`);
    }
  }
}
