/**
 * The Peerstyle stack: composes one construct per task and publishes the
 * endpoints a client needs. The constructs hold the decisions; this file only
 * wires their outputs into each other's inputs and passes the deployer's
 * settings through.
 */
import { CfnOutput, type Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DropFolder } from './drop-folder';
import { GpuCompute } from './gpu-compute';
import { GraphqlApi } from './graphql-api';
import { JobDispatch } from './job-dispatch';
import { Jobs } from './jobs';
import { Storage } from './storage';
import { Subscriptions } from './subscriptions';
import { Training, TRAINING_JOB_PREFIX } from './training';

/** What a deployer tunes; every field has a working default. */
export interface PeerstyleStackProps extends StackProps {
  /**
   * Browser origins allowed to call the API and upload to the drop folder.
   * @default - none
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * GPU instance types for stylization.
   * @default g5.xlarge and g4dn.xlarge
   */
  readonly gpuInstanceTypes?: readonly ec2.InstanceType[];
  /**
   * The most vCPUs of GPU instances running at once.
   * @default 16
   */
  readonly gpuMaxvCpus?: number;
  /**
   * The SageMaker instance type for training.
   * @default 'ml.g5.xlarge'
   */
  readonly trainingInstanceType?: string;
  /**
   * Train on managed Spot capacity.
   * @default true
   */
  readonly trainingUseSpot?: boolean;
  /**
   * Days uploaded inputs are kept.
   * @default 7
   */
  readonly uploadRetentionDays?: number;
  /**
   * Days stylized results are kept.
   * @default 30
   */
  readonly resultRetentionDays?: number;
  /**
   * How long API Gateway caches an authorizer answer: the longest a revoked key keeps working
   * (at most 5 s).
   * @default Duration.seconds(0) - not cached
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * How long function, access and flow logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Register the account-wide API Gateway CloudWatch role that WebSocket
   * access logs need (once per account and region).
   * @default false
   */
  readonly setApiGatewayAccountLoggingRole?: boolean;
}

/** The whole Peerstyle platform in one stack. */
export class PeerstyleStack extends Stack {
  /** The buckets. */
  public readonly storage: Storage;
  /** The tables and queues. */
  public readonly jobs: Jobs;
  /** GraphQL queries and mutations. */
  public readonly api: GraphqlApi;
  /** Queues or starts new jobs from the jobs table's stream. */
  public readonly jobDispatch: JobDispatch;
  /** GraphQL subscriptions. */
  public readonly subscriptions: Subscriptions;
  /** GPU stylization. */
  public readonly gpuCompute: GpuCompute;
  /** The drop folder. */
  public readonly dropFolder: DropFolder;
  /** Style training. */
  public readonly training: Training;

  constructor(scope: Construct, id: string, props: PeerstyleStackProps = {}) {
    super(scope, id, props);
    const { logRetention } = props;

    this.storage = new Storage(this, 'Storage', {
      allowedOrigins: props.allowedOrigins,
      uploadRetentionDays: props.uploadRetentionDays,
      resultRetentionDays: props.resultRetentionDays,
    });
    const { uploadsBucket, resultsBucket, modelsBucket, datasetsBucket } = this.storage;

    this.jobs = new Jobs(this, 'Jobs');
    const { jobsTable, apiKeysTable, catalogTable, rateLimitsTable } = this.jobs;

    this.training = new Training(this, 'Training', {
      datasetsBucket,
      uploadsBucket,
      modelsBucket,
      jobsTable,
      catalogTable,
      instanceType: props.trainingInstanceType,
      useSpot: props.trainingUseSpot,
      logRetention,
    });

    this.api = new GraphqlApi(this, 'GraphqlApi', {
      jobsTable,
      apiKeysTable,
      catalogTable,
      rateLimitsTable,
      uploadsBucket,
      resultsBucket,
      trainingJobPrefix: TRAINING_JOB_PREFIX,
      allowedOrigins: props.allowedOrigins,
      authorizerCacheTtl: props.authorizerCacheTtl,
      logRetention,
    });

    this.jobDispatch = new JobDispatch(this, 'JobDispatch', {
      jobsTable,
      stylizeQueue: this.jobs.stylize.queue,
      trainingLauncher: this.training.launcherFunction.function,
      logRetention,
    });

    this.subscriptions = new Subscriptions(this, 'Subscriptions', {
      jobsTable,
      apiKeysTable,
      resultsBucket,
      setAccountLoggingRole: props.setApiGatewayAccountLoggingRole,
      logRetention,
    });

    this.gpuCompute = new GpuCompute(this, 'GpuCompute', {
      stylizeQueue: this.jobs.stylize.queue,
      jobsTable,
      uploadsBucket,
      resultsBucket,
      modelsBucket,
      catalogTable,
      instanceTypes: props.gpuInstanceTypes,
      maxvCpus: props.gpuMaxvCpus,
      logRetention,
    });

    this.dropFolder = new DropFolder(this, 'DropFolder', {
      uploadsBucket,
      intakeQueue: this.jobs.dropIntake.queue,
      jobsTable,
      stylizeQueue: this.jobs.stylize.queue,
      logRetention,
    });

    new CfnOutput(this, 'GraphqlUrl', { value: this.api.url, description: 'GraphQL queries and mutations (HTTPS)' });
    new CfnOutput(this, 'SubscriptionsUrl', {
      value: this.subscriptions.url,
      description: 'GraphQL subscriptions (graphql-ws over WSS)',
    });
    new CfnOutput(this, 'UploadsBucketName', {
      value: uploadsBucket.bucketName,
      description: 'Objects put under drop/ here are stylized automatically',
    });
    new CfnOutput(this, 'ResultsBucketName', { value: resultsBucket.bucketName });
    new CfnOutput(this, 'DatasetsBucketName', { value: datasetsBucket.bucketName });
  }
}
