/**
 * Style training on SageMaker: the launcher that starts training jobs with the
 * trainer image, the execution role those jobs run as, and the EventBridge
 * rule that reports their state changes back to the jobs table and registers
 * finished models.
 *
 * The trainer image follows SageMaker's /opt/ml contract (input channels under
 * /opt/ml/input/data, checkpoints in /opt/ml/checkpoints, the model written
 * to /opt/ml/model) and starts as `docker run <image> train`. SageMaker gives
 * managed Spot with checkpoint resume, log scraping into metrics, and state
 * events for free, which is why training runs there rather than on Batch.
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BLOB_PREFIXES } from '../../functions/core/blob-prefixes';
import { peerstyleImageAsset } from './container-images';
import { grantItems, grantObjects } from './grants';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';
import { acknowledgeWildcardResource } from './nag';
import { TRAINING_METRIC_DEFINITIONS } from './training-metrics';

/** Every training job the platform starts is named with this prefix. */
export const TRAINING_JOB_PREFIX = 'peerstyle-';

/** The EventBridge detail-type SageMaker uses for training job status. */
export const TRAINING_STATE_CHANGE = 'SageMaker Training Job State Change';

/** Props for {@link Training}. */
export interface TrainingProps {
  /** Training image sets, read from `datasets/`. */
  readonly datasetsBucket: s3.IBucket;
  /**
   * API uploads under `uploads/`; a training request on an upload prefix is copied from here into
   * `datasets/<jobId>/` before the run starts, since the training channel reads the datasets bucket only.
   */
  readonly uploadsBucket: s3.IBucket;
  /** Checkpoints (`checkpoints/`), SageMaker output (`training-output/`) and registered models (`models/`). */
  readonly modelsBucket: s3.IBucket;
  /** Job rows, updated as training progresses. */
  readonly jobsTable: dynamodb.ITable;
  /** Styles and models; a finished training registers a model version here. */
  readonly catalogTable: dynamodb.ITable;
  /**
   * The SageMaker training instance type.
   * @default 'ml.g5.xlarge'
   */
  readonly instanceType?: string;
  /**
   * Train on managed Spot capacity; checkpoints let an interrupted job resume.
   * @default true
   */
  readonly useSpot?: boolean;
  /**
   * The most time one training job may train.
   * @default Duration.hours(8)
   */
  readonly maxRuntime?: Duration;
  /**
   * With Spot, the most time a job may take including waits for capacity;
   * SageMaker requires it to be at least `maxRuntime`.
   * @default twice `maxRuntime`
   */
  readonly maxWait?: Duration;
  /**
   * How long the functions' logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** SageMaker training for new styles. */
export class Training extends Construct {
  /** Starts a SageMaker training job for a training request. */
  public readonly launcherFunction: HandlerFunction;
  /** Applies training state changes to the job and registers models. */
  public readonly eventsFunction: HandlerFunction;
  /** The role SageMaker training jobs run as. */
  public readonly executionRole: iam.Role;
  /** Routes this platform's training state changes to the events function. */
  public readonly stateChangeRule: events.Rule;

  constructor(scope: Construct, id: string, props: TrainingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const useSpot = props.useSpot ?? true;
    const maxRuntime = props.maxRuntime ?? Duration.hours(8);
    const maxWait = props.maxWait ?? Duration.seconds(maxRuntime.toSeconds() * 2);
    if (useSpot && maxWait.toSeconds() < maxRuntime.toSeconds()) {
      throw new Error(
        `maxWait (${maxWait.toSeconds()} s) must be at least maxRuntime (${maxRuntime.toSeconds()} s) for Spot training`,
      );
    }
    const trainingJobArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: `${TRAINING_JOB_PREFIX}*`,
    });

    const image = peerstyleImageAsset(this, 'TrainerImage', 'trainer');

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SageMaker training jobs: read datasets, write checkpoints and model output',
    });
    grantObjects(this.executionRole, props.datasetsBucket, BLOB_PREFIXES.datasets, 'read');
    grantObjects(this.executionRole, props.modelsBucket, BLOB_PREFIXES.checkpoints, 'readWrite');
    grantObjects(this.executionRole, props.modelsBucket, BLOB_PREFIXES.trainingOutput, 'write');
    image.repository.grantPull(this.executionRole);
    const trainingLogs = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/TrainingJobs:*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [trainingLogs],
      }),
    );
    acknowledgeWildcardResource(
      this.executionRole,
      trainingLogs,
      'SageMaker writes each training job to its own stream in the fixed /aws/sagemaker/TrainingJobs group; the streams are named at run time.',
    );
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
      }),
    );
    acknowledgeWildcardResource(
      this.executionRole,
      '*',
      'cloudwatch:PutMetricData and ecr:GetAuthorizationToken do not support resource-level permissions; metrics are limited to the SageMaker training namespace by condition, and image pulls to the trainer repository.',
    );

    this.launcherFunction = new HandlerFunction(this, 'Launcher', {
      handler: 'trainingLauncher',
      description: 'Starts a SageMaker training job for a style training request',
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: {
        [ENV.jobsTable]: props.jobsTable.tableName,
        [ENV.datasetsBucket]: props.datasetsBucket.bucketName,
        [ENV.uploadsBucket]: props.uploadsBucket.bucketName,
        [ENV.modelsBucket]: props.modelsBucket.bucketName,
        [ENV.trainingImageUri]: image.imageUri,
        [ENV.trainingRoleArn]: this.executionRole.roleArn,
        [ENV.trainingInstanceType]: props.instanceType ?? 'ml.g5.xlarge',
        [ENV.trainingUseSpot]: String(useSpot),
        [ENV.trainingMaxRuntimeSeconds]: String(maxRuntime.toSeconds()),
        [ENV.trainingMaxWaitSeconds]: String(maxWait.toSeconds()),
        [ENV.trainingJobPrefix]: TRAINING_JOB_PREFIX,
        [ENV.trainingMetricDefinitions]: JSON.stringify(TRAINING_METRIC_DEFINITIONS),
      },
    });
    const launcher = this.launcherFunction.function;
    launcher.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:AddTags'],
        resources: [trainingJobArn],
      }),
    );
    this.executionRole.grantPassRole(launcher.grantPrincipal);
    acknowledgeWildcardResource(
      this.launcherFunction.role,
      trainingJobArn,
      'Training job names are generated per request; the launcher may create only jobs carrying the platform prefix.',
    );
    grantItems(launcher, props.jobsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // Staging an uploaded dataset is a server-side copy: ListObjectsV2 and the copy's source read
    // (GetObject) under uploads/, the copy's destination write (PutObject) under datasets/. The
    // launcher never reads datasets/ back: copies are repeated on retry, which overwrites in place.
    grantObjects(launcher, props.uploadsBucket, BLOB_PREFIXES.uploads, 'read');
    grantObjects(launcher, props.datasetsBucket, BLOB_PREFIXES.datasets, 'write');

    this.eventsFunction = new HandlerFunction(this, 'Events', {
      handler: 'trainingEvents',
      description: 'Applies SageMaker training state changes to jobs and registers finished models',
      timeout: Duration.minutes(2),
      memorySize: 1024,
      logRetention: props.logRetention,
      environment: {
        [ENV.jobsTable]: props.jobsTable.tableName,
        [ENV.catalogTable]: props.catalogTable.tableName,
        [ENV.modelsBucket]: props.modelsBucket.bucketName,
      },
    });
    const eventsFn = this.eventsFunction.function;
    grantItems(eventsFn, props.jobsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // Registration bumps the per-name version counter (UpdateItem), then puts the model record; a
    // redelivered event first gets the record by its id, so a retry registers nothing twice.
    grantItems(eventsFn, props.catalogTable, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // Registration unpacks SageMaker's model.tar.gz into models/<modelId>/<version>/.
    grantObjects(eventsFn, props.modelsBucket, BLOB_PREFIXES.trainingOutput, 'read');
    grantObjects(eventsFn, props.modelsBucket, BLOB_PREFIXES.models, 'write');
    eventsFn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sagemaker:DescribeTrainingJob'], resources: [trainingJobArn] }),
    );
    acknowledgeWildcardResource(
      this.eventsFunction.role,
      trainingJobArn,
      'The events function describes whichever platform training job changed state; only jobs carrying the platform prefix.',
    );

    const deadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the training state-change rule target.',
    });
    this.stateChangeRule = new events.Rule(this, 'StateChangeRule', {
      description: 'Peerstyle training job state changes',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: [TRAINING_STATE_CHANGE],
        detail: { TrainingJobName: [{ prefix: TRAINING_JOB_PREFIX }] },
      },
      targets: [
        new targets.LambdaFunction(eventsFn, {
          deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }
}
