/**
 * The job outbox: the jobs table's stream carries each new job row to a relay function that queues a
 * STYLIZE job on the stylize queue or starts a TRAIN job through the training launcher.
 *
 * Creating a job and queueing it used to be two writes from the GraphQL function, and a crash between
 * them left a QUEUED job that never ran (a retry with the same idempotency key then returned it as it
 * was). DynamoDB has no transaction that spans SQS, so the row itself is the outbox: the GraphQL
 * function writes only the row, marked `dispatch = stream`, and the stream keeps the insert until the
 * relay has handed it on. A record the relay keeps failing on goes, after its retries, to a
 * dead-letter queue with an alarm (its job id is in the record; redrive by re-sending it).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';
import { acknowledgeWildcardResource } from './nag';
import { FUNCTION_TIMEOUTS } from './timeouts';

/** The mark the GraphQL function's job store puts on new job items (`STREAM_DISPATCH` in the adapter). */
export const DISPATCH_MARK = { attribute: 'dispatch', value: 'stream' } as const;

/** Props for {@link JobDispatch}. */
export interface JobDispatchProps {
  /** The jobs table; must have a stream with new images. */
  readonly jobsTable: dynamodb.ITable;
  /** Where STYLIZE jobs go. */
  readonly stylizeQueue: sqs.IQueue;
  /** Starts TRAIN jobs (invoked asynchronously). */
  readonly trainingLauncher: lambda.IFunction;
  /**
   * How long the relay's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Relays new jobs from the jobs table's stream to their runners. */
export class JobDispatch extends Construct {
  /** The relay. */
  public readonly dispatchFunction: HandlerFunction;
  /** Stream records the relay gave up on, after its retries. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Fires when a record is in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: JobDispatchProps) {
    super(scope, id);
    this.dispatchFunction = new HandlerFunction(this, 'Relay', {
      handler: 'jobDispatch',
      description: 'Queues or starts each new job from the jobs table stream (the job outbox)',
      timeout: FUNCTION_TIMEOUTS.jobDispatch,
      logRetention: props.logRetention,
      environment: {
        [ENV.stylizeQueueUrl]: props.stylizeQueue.queueUrl,
        [ENV.trainingLauncherFunction]: props.trainingLauncher.functionName,
      },
    });
    const fn = this.dispatchFunction.function;
    props.stylizeQueue.grantSendMessages(fn);
    props.trainingLauncher.grantInvoke(fn);
    acknowledgeWildcardResource(
      this.dispatchFunction.role,
      `${props.trainingLauncher.functionArn}:*`,
      'Invoke permission on the training launcher also covers its versions and aliases (the ":*" suffix); no other function.',
    );

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    fn.addEventSource(
      new DynamoEventSource(props.jobsTable, {
        // Every insert matters, including those written while the mapping was being created.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(0),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: {
              NewImage: { [DISPATCH_MARK.attribute]: { S: lambda.FilterRule.isEqual(DISPATCH_MARK.value) } },
            },
          }),
        ],
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );
    acknowledgeWildcardResource(
      this.dispatchFunction.role,
      '*',
      'dynamodb:ListStreams, added by the stream event source, does not support resource-level permissions.',
    );
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the stream event source; it needs none of its own.',
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'A new job could not be queued or started from the jobs table stream',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
