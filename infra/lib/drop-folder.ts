/**
 * The S3 drop folder: any object created under `drop/` in the uploads bucket
 * becomes a stylize job.
 *
 * S3 sends the event to the intake queue (not straight to Lambda) so that a
 * burst of uploads is buffered and a poison event ends in a dead-letter queue.
 * The intake function validates the object and creates the job. Outputs are
 * written to `out/` in the separate results bucket, which has no notification
 * at all, so a result can never start another job.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BLOB_PREFIXES } from '../../functions/core/blob-prefixes';
import { grantItems, grantObjects } from './grants';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';
import { FUNCTION_TIMEOUTS } from './timeouts';

/** Props for {@link DropFolder}. */
export interface DropFolderProps {
  /** The bucket whose `drop/` prefix is watched. */
  readonly uploadsBucket: s3.Bucket;
  /**
   * Receives the S3 events; its visibility timeout must be at least six times
   * the intake function's timeout and its message size limit at least 64 KB.
   */
  readonly intakeQueue: sqs.IQueue;
  /** Where the intake function creates job rows. */
  readonly jobsTable: dynamodb.ITable;
  /** Where accepted inputs are enqueued for the GPUs. */
  readonly stylizeQueue: sqs.IQueue;
  /**
   * How long the intake function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Turns files dropped into `drop/` into stylize jobs. */
export class DropFolder extends Construct {
  /** Validates dropped objects and creates their jobs. */
  public readonly intakeFunction: HandlerFunction;

  constructor(scope: Construct, id: string, props: DropFolderProps) {
    super(scope, id);

    // One notification for every OBJECT_CREATED kind: multipart uploads end in
    // CompleteMultipartUpload, not Put. No suffix filter: the intake function
    // checks the content itself, and rejects what is not an image.
    props.uploadsBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(props.intakeQueue), {
      prefix: BLOB_PREFIXES.drop,
    });

    this.intakeFunction = new HandlerFunction(this, 'Intake', {
      handler: 'dropIntake',
      description: 'Validates files dropped into drop/ and creates their stylize jobs',
      timeout: FUNCTION_TIMEOUTS.dropIntake,
      logRetention: props.logRetention,
      environment: {
        [ENV.uploadsBucket]: props.uploadsBucket.bucketName,
        [ENV.jobsTable]: props.jobsTable.tableName,
        [ENV.stylizeQueueUrl]: props.stylizeQueue.queueUrl,
      },
    });
    const fn = this.intakeFunction.function;
    grantObjects(fn, props.uploadsBucket, BLOB_PREFIXES.drop, 'read');
    // A dropped file's folder names its style: the intake checks styles/<style> exists, and lists
    // styles/ to name the valid ones when it does not.
    grantObjects(fn, props.uploadsBucket, BLOB_PREFIXES.styles, 'read');
    // Rejected inputs are copied to rejected/ with the reason.
    grantObjects(fn, props.uploadsBucket, BLOB_PREFIXES.rejected, 'write');
    grantItems(fn, props.jobsTable, 'dynamodb:PutItem', 'dynamodb:GetItem');
    props.stylizeQueue.grantSendMessages(fn);
    fn.addEventSource(
      new SqsEventSource(props.intakeQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(5),
        // One bad record (or the s3:TestEvent) must not redeliver the batch.
        reportBatchItemFailures: true,
      }),
    );

    acknowledgeNotificationHandler(Stack.of(this));
  }
}

/**
 * CDK configures bucket notifications through a singleton custom-resource
 * Lambda at the stack root; it cannot be given our own role or runtime.
 */
function acknowledgeNotificationHandler(stack: Stack): void {
  const handler = stack.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The role of the CDK-provided bucket-notification custom resource; CDK creates it and does not accept a replacement (aws/aws-cdk#9918).',
  });
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'The CDK-provided bucket-notification custom resource calls s3:PutBucketNotification, which it grants on all buckets; it runs only during deployment.',
  });
}
