/**
 * GPU stylization on AWS Batch: a scale-to-zero EC2 compute environment of
 * single-GPU instances, a job queue, the stylize-worker job definition, and
 * the dispatcher that turns queued stylize requests into Batch jobs.
 *
 * How work reaches the GPUs: a dispatcher Lambda consumes the stylize SQS
 * queue and calls SubmitJob once per message. The alternative, a long-lived
 * worker polling SQS, would keep a GPU instance (or at least a container)
 * running while idle, defeating minvCpus 0. With the dispatcher, Batch is the
 * scheduler: it starts instances only while jobs are RUNNABLE, retries jobs
 * that lost their host, and cancels jobs stuck waiting for capacity; SQS in
 * front keeps submissions durable and puts failed submissions in a DLQ. A
 * Batch job that fails before its container records an outcome (cancelled
 * for capacity, hosts lost, a crash) is reported by EventBridge to a function
 * that fails the job row, so no job is left QUEUED or RUNNING for good.
 *
 * Networking: the instances decode untrusted images, so they get no route
 * to the internet at all. They sit in isolated subnets (no internet or NAT
 * gateway, no public IPs) and reach only what they use: S3 and DynamoDB
 * through free gateway endpoints, and ECR (image pulls), ECS (the container
 * agent) and CloudWatch Logs through interface endpoints. Their security
 * group allows HTTPS out to those endpoints and to the S3 and DynamoDB prefix
 * lists, nothing else, and admits nothing in. Interface endpoints bill by the
 * hour (about $7 a month each per AZ), so by default they live in one AZ;
 * flow logs record all traffic.
 */
import { Duration, Size, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BLOB_PREFIXES } from '../../functions/core/blob-prefixes';
import { BatchJobEvents } from './batch-job-events';
import { peerstyleImageAsset } from './container-images';
import { grantItems, grantObjects } from './grants';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';
import { ManagedPrefixList } from './managed-prefix-list';
import { acknowledgeWildcardResource } from './nag';
import { FUNCTION_TIMEOUTS } from './timeouts';

/** The container command; Batch substitutes `Ref::jobId` from SubmitJob's parameters. */
export const STYLIZE_WORKER_COMMAND = ['worker', '--job-id', 'Ref::jobId'];

/** Props for {@link GpuCompute}. */
export interface GpuComputeProps {
  /** Stylize requests; the dispatcher drains it into Batch. */
  readonly stylizeQueue: sqs.IQueue;
  /** Job rows; the worker writes progress and results, the dispatcher the Batch job id. */
  readonly jobsTable: dynamodb.ITable;
  /** Inputs, read from `drop/`. */
  readonly uploadsBucket: s3.IBucket;
  /** Outputs, written to `out/`. */
  readonly resultsBucket: s3.IBucket;
  /** Model packages, read from `models/`. */
  readonly modelsBucket: s3.IBucket;
  /** The model registry; the worker resolves a job's trained model here. */
  readonly catalogTable: dynamodb.ITable;
  /**
   * Instance types to run on; each must have one NVIDIA GPU and at least the
   * job's vCPUs and memory.
   * @default g5.xlarge and g4dn.xlarge
   */
  readonly instanceTypes?: readonly ec2.InstanceType[];
  /**
   * The most vCPUs the environment may run at once (4 per xlarge instance).
   * @default 16
   */
  readonly maxvCpus?: number;
  /**
   * Run on Spot instances. Stylize jobs are short and retried on reclaim, but
   * users wait for them, so the default is on-demand.
   * @default false
   */
  readonly spot?: boolean;
  /**
   * How long one stylize job may run before Batch stops it.
   * @default Duration.minutes(15)
   */
  readonly jobTimeout?: Duration;
  /**
   * How long a job may wait in RUNNABLE for capacity before it is cancelled.
   * @default Duration.minutes(30)
   */
  readonly maxRunnableTime?: Duration;
  /**
   * In how many AZs the interface endpoints (ECR, ECS, CloudWatch Logs) get a network interface.
   * More AZs survive an AZ outage; each costs about $7 a month per endpoint (six endpoints).
   * @default 1
   */
  readonly endpointAzCount?: number;
  /**
   * How long worker, dispatcher and VPC flow logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** GPU stylization on AWS Batch. */
export class GpuCompute extends Construct {
  /** The network the GPU instances run in: isolated subnets, VPC endpoints only. */
  public readonly vpc: ec2.Vpc;
  /** The GPU instances' group: no ingress, HTTPS egress to the VPC endpoints only. */
  public readonly instanceSecurityGroup: ec2.SecurityGroup;
  /** The interface endpoints' group: admits HTTPS from the GPU instances only. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** The scale-to-zero GPU compute environment. */
  public readonly computeEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  /** Where stylize jobs wait for a GPU. */
  public readonly jobQueue: batch.JobQueue;
  /** The stylize-worker container. */
  public readonly jobDefinition: batch.EcsJobDefinition;
  /** What the worker container may do (S3, DynamoDB). */
  public readonly jobRole: iam.Role;
  /** What ECS may do to start the container (pull the image, write logs). */
  public readonly executionRole: iam.Role;
  /** Drains the stylize queue into Batch. */
  public readonly dispatcherFunction: HandlerFunction;
  /** The worker's log group. */
  public readonly workerLogGroup: logs.LogGroup;
  /** Fails the jobs of Batch jobs that ended without the worker finishing them. */
  public readonly jobEvents: BatchJobEvents;

  constructor(scope: Construct, id: string, props: GpuComputeProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'gpu', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: logRetention }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'GPU workers: no inbound traffic, HTTPS out to the VPC endpoints only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints of the GPU workers: HTTPS from the GPU workers only',
      allowAllOutbound: false,
    });
    const https = ec2.Port.tcp(443);
    this.endpointSecurityGroup.addIngressRule(this.instanceSecurityGroup, https, 'HTTPS from the GPU workers');
    this.instanceSecurityGroup.addEgressRule(this.endpointSecurityGroup, https, 'ECR, ECS and CloudWatch Logs');
    for (const service of ['s3', 'dynamodb']) {
      const list = new ManagedPrefixList(this, `${service === 's3' ? 'S3' : 'DynamoDB'}PrefixList`, { service });
      this.instanceSecurityGroup.addEgressRule(
        ec2.Peer.prefixList(list.prefixListId),
        https,
        `${service} (gateway endpoint)`,
      );
    }
    const endpointAzCount = props.endpointAzCount ?? 1;
    const endpointSubnets = this.vpc.isolatedSubnets.slice(0, Math.max(1, endpointAzCount));
    const interfaceEndpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
      EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
      EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    };
    for (const [name, service] of Object.entries(interfaceEndpoints)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        subnets: { subnets: endpointSubnets },
        securityGroups: [this.endpointSecurityGroup],
        // Not open to the whole VPC CIDR: only the GPU workers' group is admitted (above).
        open: false,
      });
    }

    this.computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.instanceSecurityGroup],
      instanceTypes: [
        ...(props.instanceTypes ?? [new ec2.InstanceType('g5.xlarge'), new ec2.InstanceType('g4dn.xlarge')]),
      ],
      // Only the GPU types above; the optimal classes are CPU-only.
      useOptimalInstanceClasses: false,
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      minvCpus: 0,
      maxvCpus: props.maxvCpus ?? 16,
      spot: props.spot ?? false,
      allocationStrategy: props.spot
        ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      updateToLatestImageVersion: true,
    });

    const maxRunnable = props.maxRunnableTime ?? Duration.minutes(30);
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
      // A job that can never be placed would otherwise sit in RUNNABLE forever
      // while its user watches a spinner.
      jobStateTimeLimitActions: [
        batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
        batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
        batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
      ].map((reason) => ({
        reason,
        maxTime: maxRunnable,
        action: batch.JobStateTimeLimitActionsAction.CANCEL,
        state: batch.JobStateTimeLimitActionsState.RUNNABLE,
      })),
    });

    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Stylize worker: reads inputs and models, writes results and job progress',
    });
    grantObjects(this.jobRole, props.uploadsBucket, BLOB_PREFIXES.drop, 'read');
    // The style image of a drop-folder job lives under styles/ in the same bucket.
    grantObjects(this.jobRole, props.uploadsBucket, BLOB_PREFIXES.styles, 'read');
    // Jobs submitted through the API read copies of their uploads and saved styles; jobs queued
    // before those copies were taken name the uploads themselves.
    grantObjects(this.jobRole, props.uploadsBucket, BLOB_PREFIXES.jobInputs, 'read');
    grantObjects(this.jobRole, props.uploadsBucket, BLOB_PREFIXES.savedStyles, 'read');
    grantObjects(this.jobRole, props.uploadsBucket, BLOB_PREFIXES.uploads, 'read');
    grantObjects(this.jobRole, props.resultsBucket, BLOB_PREFIXES.out, 'write');
    grantObjects(this.jobRole, props.modelsBucket, BLOB_PREFIXES.models, 'read');
    grantItems(this.jobRole, props.jobsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // A job naming a trained model is resolved to its package prefix by a GetItem on the owner's
    // model record; the worker never lists or writes the catalog.
    grantItems(this.jobRole, props.catalogTable, 'dynamodb:GetItem');

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Starts the stylize worker container: pulls its image, writes its logs',
    });
    this.workerLogGroup = new logs.LogGroup(this, 'WorkerLogs', { retention: logRetention });

    const image = peerstyleImageAsset(this, 'StylizeWorkerImage', 'stylize-worker');
    this.jobDefinition = new batch.EcsJobDefinition(this, 'StylizeJobDefinition', {
      container: new batch.EcsEc2ContainerDefinition(this, 'StylizeWorker', {
        image: ecs.ContainerImage.fromDockerImageAsset(image),
        command: STYLIZE_WORKER_COMMAND,
        gpu: 1,
        // An xlarge has 4 vCPUs and 16 GiB; leave room for the ECS agent.
        cpu: 4,
        memory: Size.mebibytes(14_336),
        jobRole: this.jobRole,
        executionRole: this.executionRole,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.workerLogGroup, streamPrefix: 'stylize' }),
        environment: {
          [ENV.jobsTable]: props.jobsTable.tableName,
          [ENV.uploadsBucket]: props.uploadsBucket.bucketName,
          [ENV.resultsBucket]: props.resultsBucket.bucketName,
          [ENV.modelsBucket]: props.modelsBucket.bucketName,
          [ENV.catalogTable]: props.catalogTable.tableName,
        },
      }),
      timeout: props.jobTimeout ?? Duration.minutes(15),
      retryAttempts: 3,
      // Retry only when the machine went away (a reclaimed Spot instance or a
      // failed host both report "Host EC2 ... terminated") or the image pull
      // failed; a failure of the job itself (bad input, model error) would
      // fail the same way again, so it exits.
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.CANNOT_PULL_CONTAINER),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
      ],
      parameters: { jobId: 'unset' },
      propagateTags: true,
    });
    // The execution role's grants: pulling the image and writing the log stream.
    image.repository.grantPull(this.executionRole);
    this.workerLogGroup.grantWrite(this.executionRole);
    acknowledgeWildcardResource(
      this.executionRole,
      '*',
      'ecr:GetAuthorizationToken, part of pulling the image, does not support resource-level permissions; the pull itself is limited to the image repository.',
    );
    Validations.of(this.computeEnvironment).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      reason:
        'The ECS container agent on the GPU instances needs this AWS-maintained policy to register with the cluster Batch manages; containers run with their own job role, not the instance role.',
    });

    this.dispatcherFunction = new HandlerFunction(this, 'Dispatcher', {
      handler: 'stylizeDispatcher',
      description: 'Submits one Batch job per queued stylize request',
      timeout: FUNCTION_TIMEOUTS.stylizeDispatcher,
      logRetention,
      environment: {
        [ENV.jobsTable]: props.jobsTable.tableName,
        [ENV.batchJobQueue]: this.jobQueue.jobQueueArn,
        [ENV.batchJobDefinition]: this.jobDefinition.jobDefinitionArn,
      },
    });
    const dispatcher = this.dispatcherFunction.function;
    this.jobDefinition.grantSubmitJob(dispatcher, this.jobQueue);
    grantItems(dispatcher, props.jobsTable, 'dynamodb:UpdateItem');
    dispatcher.addEventSource(
      new SqsEventSource(props.stylizeQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
      }),
    );

    this.jobEvents = new BatchJobEvents(this, 'JobEvents', {
      jobQueue: this.jobQueue,
      jobsTable: props.jobsTable,
      logRetention,
    });
  }
}
