/**
 * Reconciles stylize jobs with the end of their AWS Batch jobs: an EventBridge rule on this stack's
 * job queue sends every FAILED "Batch Job State Change" to a function that fails the platform job
 * if the worker container never recorded an outcome.
 *
 * Without it, a Batch job that ends outside the container (cancelled in RUNNABLE for want of
 * capacity, its host lost once too often, the container crashed) leaves its job row QUEUED or
 * RUNNING for good. SUCCEEDED events are not routed: a container exits 0 only after finishing its job
 * or finding it another container's, so they carry nothing to reconcile and would only cost
 * invocations. Deliveries the function cannot process are retried and then kept in a dead-letter
 * queue for inspection.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantItems } from './grants';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';

/** The EventBridge detail-type AWS Batch uses for job status. */
export const BATCH_JOB_STATE_CHANGE = 'Batch Job State Change';

/** The Batch statuses the rule routes; see the file header for why SUCCEEDED is not among them. */
export const RECONCILED_BATCH_STATUSES = ['FAILED'] as const;

/** Props for {@link BatchJobEvents}. */
export interface BatchJobEventsProps {
  /** The stylize job queue whose jobs are reconciled; events of other queues are not matched. */
  readonly jobQueue: batch.IJobQueue;
  /** Job rows; the function reads one and conditionally updates it. */
  readonly jobsTable: dynamodb.ITable;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH (the HandlerFunction default)
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The rule, function and dead-letter queue that fail jobs whose Batch job failed. */
export class BatchJobEvents extends Construct {
  /** Fails the job rows of failed Batch jobs. */
  public readonly eventsFunction: HandlerFunction;
  /** Routes the queue's failed Batch jobs to the function. */
  public readonly rule: events.Rule;
  /** Deliveries EventBridge could not hand to the function after its retries. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BatchJobEventsProps) {
    super(scope, id);

    this.eventsFunction = new HandlerFunction(this, 'Function', {
      handler: 'batchEvents',
      description: 'Fails stylize jobs whose AWS Batch job failed before the worker finished them',
      timeout: Duration.seconds(30),
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
      environment: { [ENV.jobsTable]: props.jobsTable.tableName },
    });
    // One read to see where the job stands, one conditional update to fail it.
    grantItems(this.eventsFunction.function, props.jobsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the Batch job state-change rule target.',
    });

    this.rule = new events.Rule(this, 'Rule', {
      description: 'Failed Peerstyle stylize jobs on AWS Batch',
      eventPattern: {
        source: ['aws.batch'],
        detailType: [BATCH_JOB_STATE_CHANGE],
        detail: { jobQueue: [props.jobQueue.jobQueueArn], status: [...RECONCILED_BATCH_STATUSES] },
      },
      targets: [
        new targets.LambdaFunction(this.eventsFunction.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          // A user is waiting on the job; a delivery older than this is better read from the DLQ.
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }
}
