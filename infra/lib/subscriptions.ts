/**
 * GraphQL subscriptions over an API Gateway WebSocket API speaking the
 * graphql-ws protocol, and the publisher that pushes job changes to them.
 *
 * API Gateway keeps the sockets; Lambdas handle `$connect`, `$disconnect` and
 * every protocol message (`$default`). The API key is checked when the client
 * sends `connection_init`, not at `$connect`: browsers cannot set headers on
 * a WebSocket, and a key in the query string would end up in access logs.
 * Connections and subscriptions live in DynamoDB with a TTL, because API
 * Gateway closes every socket after two hours and `$disconnect` is not
 * guaranteed to arrive. The publisher reads the jobs table's stream and posts
 * to the subscribed connections whose API key still works, closing those whose
 * key was revoked.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BLOB_PREFIXES } from '../../functions/core/blob-prefixes';
import { grantItems, grantObjects } from './grants';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';
import { acknowledgeWildcardResource } from './nag';
import { FUNCTION_TIMEOUTS } from './timeouts';

/** Attribute and index names of the subscription tables, shared with the handlers. */
export const SUBSCRIPTION_TABLES_SCHEMA = {
  connectionKey: 'connectionId',
  subscriptionKey: 'subscriptionId',
  topicIndex: 'byTopic',
  topicAttribute: 'topic',
  ttlAttribute: 'expiresAt',
} as const;

/** The WebSocket stage name; clients connect to `wss://<api>/<stage>`. */
export const WEBSOCKET_STAGE = 'live';

/** Props for {@link Subscriptions}. */
export interface SubscriptionsProps {
  /** The jobs table; must have a stream with new and old images. */
  readonly jobsTable: dynamodb.ITable;
  /**
   * API key hashes, read when a client sends `connection_init` or `subscribe`, and by the publisher
   * before it delivers, so a revoked key loses its open connections.
   */
  readonly apiKeysTable: dynamodb.ITable;
  /**
   * Stylized outputs under `out/`: a subscription that selects `job.result` gets a presigned
   * download link, signed by the function that renders the event.
   */
  readonly resultsBucket: s3.IBucket;
  /**
   * Steady-state message rate limit for the WebSocket stage, per second.
   * @default 100
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst message limit for the WebSocket stage.
   * @default 200
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Access logging on a WebSocket stage requires the account-wide API Gateway
   * CloudWatch role. Set this to create that role and register it; leave it
   * off in accounts where the role is already set (it is one per region).
   * @default false
   */
  readonly setAccountLoggingRole?: boolean;
  /**
   * How long access logs and function logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The WebSocket API for GraphQL subscriptions and its publisher. */
export class Subscriptions extends Construct {
  /** The WebSocket API. */
  public readonly webSocketApi: apigwv2.WebSocketApi;
  /** The deployed stage. */
  public readonly stage: apigwv2.WebSocketStage;
  /** One row per open connection. */
  public readonly connectionsTable: dynamodb.Table;
  /** One row per active subscription, indexed by topic (job id). */
  public readonly subscriptionsTable: dynamodb.Table;
  /** Posts job changes from the jobs table stream to subscribers. */
  public readonly publisherFunction: HandlerFunction;
  /** The `wss://` URL clients connect to. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: SubscriptionsProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const schema = SUBSCRIPTION_TABLES_SCHEMA;

    this.connectionsTable = new dynamodb.Table(this, 'ConnectionsTable', {
      partitionKey: { name: schema.connectionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: schema.ttlAttribute,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.subscriptionsTable = new dynamodb.Table(this, 'SubscriptionsTable', {
      partitionKey: { name: schema.connectionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: schema.subscriptionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: schema.ttlAttribute,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.subscriptionsTable.addGlobalSecondaryIndex({
      indexName: schema.topicIndex,
      partitionKey: { name: schema.topicAttribute, type: dynamodb.AttributeType.STRING },
      sortKey: { name: schema.connectionKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    for (const table of [this.connectionsTable, this.subscriptionsTable]) {
      Validations.of(table).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason:
          'Rows describe live sockets and expire within two hours; after a restore every socket would already be closed, so point-in-time recovery has nothing to recover.',
      });
    }

    const tableEnv = {
      [ENV.connectionsTable]: this.connectionsTable.tableName,
      [ENV.subscriptionsTable]: this.subscriptionsTable.tableName,
      [ENV.subscriptionsByTopicIndex]: schema.topicIndex,
    };
    // Both functions that render job events (the snapshot at subscribe time, and each change).
    const resultsEnv = { [ENV.resultsBucket]: props.resultsBucket.bucketName };

    const connect = new HandlerFunction(this, 'Connect', {
      handler: 'wsConnect',
      description: 'Records a new WebSocket connection',
      logRetention,
      environment: tableEnv,
    });
    grantItems(connect.function, this.connectionsTable, 'dynamodb:PutItem');

    const disconnect = new HandlerFunction(this, 'Disconnect', {
      handler: 'wsDisconnect',
      description: 'Forgets a closed WebSocket connection and its subscriptions',
      logRetention,
      environment: tableEnv,
    });
    grantItems(disconnect.function, this.connectionsTable, 'dynamodb:DeleteItem');
    grantItems(
      disconnect.function,
      this.subscriptionsTable,
      'dynamodb:Query',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    );

    const message = new HandlerFunction(this, 'Message', {
      handler: 'wsMessage',
      description: 'Handles graphql-ws messages: connection_init, subscribe, complete, ping',
      logRetention,
      environment: {
        ...tableEnv,
        ...resultsEnv,
        [ENV.apiKeysTable]: props.apiKeysTable.tableName,
        [ENV.jobsTable]: props.jobsTable.tableName,
      },
    });
    // Closing a socket (a protocol violation, a failed connection_init) forgets the connection and
    // its subscriptions here, since $disconnect is not guaranteed to follow: hence DeleteItem on the
    // connection and Query + DeleteItem on its subscriptions.
    grantItems(
      message.function,
      this.connectionsTable,
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    grantItems(message.function, this.subscriptionsTable, 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query');
    grantObjects(message.function, props.resultsBucket, BLOB_PREFIXES.out, 'read');
    grantItems(message.function, props.apiKeysTable, 'dynamodb:GetItem');
    // Read a job to check the subscriber owns it before subscribing.
    grantItems(message.function, props.jobsTable, 'dynamodb:GetItem');

    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'Peerstyle GraphQL subscriptions (graphql-ws)',
      connectRouteOptions: { integration: new WebSocketLambdaIntegration('Connect', connect.function) },
      disconnectRouteOptions: {
        integration: new WebSocketLambdaIntegration('Disconnect', disconnect.function),
      },
      defaultRouteOptions: { integration: new WebSocketLambdaIntegration('Message', message.function) },
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: WEBSOCKET_STAGE,
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 100,
        burstLimit: props.throttlingBurstLimit ?? 200,
      },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    if (props.setAccountLoggingRole) {
      this.stage.node.addDependency(new ApiGatewayAccountLogging(this, 'AccountLogging'));
    }
    for (const route of ['$connect', '$disconnect', '$default']) {
      const routeResource = this.webSocketApi.node.findChild(`${route}-Route`).node.defaultChild;
      if (routeResource) {
        Validations.of(routeResource).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'graphql-ws clients authenticate in their connection_init message, which ws-message checks against the API key table before acknowledging; until then the socket can do nothing but send connection_init. Browsers cannot send an Authorization header on a WebSocket.',
        });
      }
    }

    this.url = this.stage.url;
    const callbackEnv = { [ENV.webSocketCallbackUrl]: this.stage.callbackUrl };
    message.function.addEnvironment(ENV.webSocketCallbackUrl, this.stage.callbackUrl);
    // ws-message answers connection_ack, pong and errors on the same socket.
    this.stage.grantManagementApiAccess(message.function);

    this.publisherFunction = new HandlerFunction(this, 'Publisher', {
      handler: 'wsPublisher',
      description: 'Pushes job changes from the jobs table stream to subscribed WebSockets',
      timeout: FUNCTION_TIMEOUTS.wsPublisher,
      logRetention,
      environment: { ...tableEnv, ...callbackEnv, ...resultsEnv, [ENV.apiKeysTable]: props.apiKeysTable.tableName },
    });
    const publisher = this.publisherFunction.function;
    grantObjects(publisher, props.resultsBucket, BLOB_PREFIXES.out, 'read');
    // Re-verify each subscriber's key (by its hash) before delivering to it.
    grantItems(publisher, props.apiKeysTable, 'dynamodb:GetItem');
    grantItems(publisher, this.subscriptionsTable, 'dynamodb:Query', 'dynamodb:DeleteItem');
    grantItems(publisher, this.connectionsTable, 'dynamodb:DeleteItem');
    this.stage.grantManagementApiAccess(publisher);
    publisher.addEventSource(
      new DynamoEventSource(props.jobsTable, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        // A failed record is retried alone; records after it still flow.
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 3,
        // Progress older than this is stale; subscribers reconcile on reconnect.
        maxRecordAge: Duration.minutes(10),
      }),
    );

    // The same ARN the stage's grant builds: this API, this stage, any connection.
    const connectionsArn = `${Stack.of(this).formatArn({ service: 'execute-api', resource: this.webSocketApi.apiId })}/${WEBSOCKET_STAGE}/*/@connections/*`;
    for (const fn of [message, this.publisherFunction]) {
      acknowledgeWildcardResource(
        fn.role,
        connectionsArn,
        'execute-api:ManageConnections must name connection ids that exist only at run time; the grant is limited to this API and stage.',
      );
    }
    acknowledgeWildcardResource(
      this.publisherFunction.role,
      '*',
      'dynamodb:ListStreams, added by the stream event source, does not support resource-level permissions.',
    );
  }
}

/**
 * Registers an API Gateway CloudWatch role for the account and region, which
 * WebSocket stage access logs require.
 */
class ApiGatewayAccountLogging extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'This is the policy AWS publishes for the account-wide API Gateway logging role; API Gateway names its log groups itself, so no narrower policy can be written in advance.',
    });
    new apigateway.CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
  }
}
