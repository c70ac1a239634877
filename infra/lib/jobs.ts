/**
 * Job state and the queues that carry work: the DynamoDB tables (jobs, API
 * keys, the style/model catalog, per-owner request counters) and the SQS
 * queues (stylize, drop intake), each with a dead-letter queue and alarms.
 *
 * Three tables rather than one single-table design: the jobs table's stream
 * drives the subscription publisher, and keeping keys and catalog rows out of
 * it means the publisher wakes only for job changes; separate tables also let
 * the authorizer read API-key hashes without any access to jobs, and each
 * table gets its own retention settings (TTL on jobs only).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_TIMEOUTS, visibilityTimeoutFor } from './timeouts';

/** Attribute and index names of the jobs table, shared with the handlers. */
export const JOBS_TABLE_SCHEMA = {
  partitionKey: 'pk',
  ownerIndex: 'byOwner',
  ownerAttribute: 'owner',
  createdAtAttribute: 'createdAt',
  ttlAttribute: 'expiresAt',
} as const;

/** Attribute names of the rate-limits table, shared with the GraphQL function. */
export const RATE_LIMITS_TABLE_SCHEMA = { partitionKey: 'pk', ttlAttribute: 'expiresAt' } as const;

/** Props for {@link Jobs}. */
export interface JobsProps {
  /**
   * Times a message is received before it moves to its dead-letter queue.
   * Must be between 3 and 5: fewer turns a brief throttle into a dead letter,
   * more delays the alarm on a poison message.
   * @default 4
   */
  readonly maxReceiveCount?: number;
  /**
   * Age of the oldest waiting message that raises the backlog alarm.
   * @default Duration.minutes(15)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Days dead letters are kept for inspection and redrive.
   * @default 14
   */
  readonly deadLetterRetentionDays?: number;
  /**
   * Where alarms send their notifications.
   * @default - none; the alarms only change state
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
}

/** A work queue with its dead-letter queue and alarms. */
export interface MonitoredQueue {
  /** The queue consumers read. */
  readonly queue: sqs.Queue;
  /** Receives messages that failed `maxReceiveCount` times. */
  readonly deadLetterQueue: sqs.Queue;
  /** Fires when any message is in the dead-letter queue. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Fires when the oldest waiting message exceeds `maxMessageAge`. */
  readonly backlogAlarm: cloudwatch.Alarm;
}

/** Tables and queues that hold job state and pending work. */
export class Jobs extends Construct {
  /** One row per stylize or training job; streamed to subscribers. */
  public readonly jobsTable: dynamodb.Table;
  /** API keys by sha256 hash of the bearer token; never the token itself. */
  public readonly apiKeysTable: dynamodb.Table;
  /**
   * Saved styles and trained models, one partition per owner so that no query
   * can reach another owner's records: `pk` = `owner#<owner>`, `sk` =
   * `style#<id>` or `model#<id>`. Ids are time-ordered (UUIDv7-shaped), so a
   * descending Query on a sort-key prefix lists newest first without an index.
   * One more item per model name, `sk` = `version#<name>`, holds a counter that
   * registration bumps atomically, so concurrent trainings of the same name get
   * distinct version numbers.
   */
  public readonly catalogTable: dynamodb.Table;
  /**
   * Per-owner request counters, one item per owner per second and per minute (`pk` =
   * `<owner>#s|m#<window start>`), charged by the GraphQL function with conditional updates and
   * removed by TTL after their window. Kept apart from the jobs table so that counting requests
   * never wakes the jobs stream's publisher.
   */
  public readonly rateLimitsTable: dynamodb.Table;
  /** Stylize jobs waiting to be submitted to the GPU queue. */
  public readonly stylize: MonitoredQueue;
  /** S3 events for objects that landed in the drop folder. */
  public readonly dropIntake: MonitoredQueue;

  constructor(scope: Construct, id: string, props: JobsProps = {}) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 4;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 3 || maxReceiveCount > 5) {
      throw new Error(`maxReceiveCount must be an integer from 3 to 5, got ${maxReceiveCount}`);
    }

    this.jobsTable = new dynamodb.Table(this, 'JobsTable', {
      partitionKey: { name: JOBS_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: JOBS_TABLE_SCHEMA.ttlAttribute,
      // Old and new images let the publisher tell a status change from a
      // progress tick without reading the table again.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Query by owner with ScanIndexForward=false lists a user's jobs newest first.
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: JOBS_TABLE_SCHEMA.ownerIndex,
      partitionKey: { name: JOBS_TABLE_SCHEMA.ownerAttribute, type: dynamodb.AttributeType.STRING },
      sortKey: { name: JOBS_TABLE_SCHEMA.createdAtAttribute, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.apiKeysTable = new dynamodb.Table(this, 'ApiKeysTable', {
      partitionKey: { name: 'keyHash', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.catalogTable = new dynamodb.Table(this, 'CatalogTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.rateLimitsTable = new dynamodb.Table(this, 'RateLimitsTable', {
      partitionKey: { name: RATE_LIMITS_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: RATE_LIMITS_TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Counters live for a minute; nothing in them is worth keeping after the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const queueProps = { ...props, maxReceiveCount };
    this.stylize = this.monitoredQueue('Stylize', {
      ...queueProps,
      visibilityTimeout: visibilityTimeoutFor(FUNCTION_TIMEOUTS.stylizeDispatcher),
    });
    this.dropIntake = this.monitoredQueue('DropIntake', {
      ...queueProps,
      visibilityTimeout: visibilityTimeoutFor(FUNCTION_TIMEOUTS.dropIntake),
    });
  }

  private monitoredQueue(
    id: string,
    options: JobsProps & { maxReceiveCount: number; visibilityTimeout: Duration },
  ): MonitoredQueue {
    const deadLetterQueue = new sqs.Queue(this, `${id}DeadLetterQueue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(options.deadLetterRetentionDays ?? 14),
    });
    const queue = new sqs.Queue(this, `${id}Queue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: options.visibilityTimeout,
      // S3 event records can reach 64 KB; keep the full 256 KB so none is cut.
      maxMessageSizeBytes: 262_144,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: options.maxReceiveCount },
    });

    const deadLetterAlarm = new cloudwatch.Alarm(this, `${id}DeadLettersAlarm`, {
      alarmDescription: `A ${id} message failed ${options.maxReceiveCount} times and was dead-lettered`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const backlogAlarm = new cloudwatch.Alarm(this, `${id}BacklogAlarm`, {
      alarmDescription: `The oldest ${id} message has waited too long`,
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: (options.maxMessageAge ?? Duration.minutes(15)).toSeconds(),
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const action of options.alarmActions ?? []) {
      deadLetterAlarm.addAlarmAction(action);
      backlogAlarm.addAlarmAction(action);
    }
    return { queue, deadLetterQueue, deadLetterAlarm, backlogAlarm };
  }
}
