/**
 * The GraphQL endpoint for queries and mutations: an API Gateway HTTP API in
 * front of a Lambda running Apollo Server, guarded by a Lambda authorizer that
 * checks bearer API keys.
 *
 * The GraphQL function runs @as-integrations/aws-lambda 4.0.1 on the Node.js
 * 24 runtime (4.1.0 would require Node 22 of the local runtime too, which still
 * supports Node 20).
 * Subscriptions are not served here (HTTP has no server push); see
 * Subscriptions.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BLOB_PREFIXES } from '../../functions/core/blob-prefixes';
import { grantItems, grantObjects } from './grants';
import { HandlerFunction } from './handler-function';
import { ENV } from './handlers';
import { JOBS_TABLE_SCHEMA } from './jobs';
import { acknowledgeWildcardResource } from './nag';

/** The path the GraphQL endpoint is served on. */
export const GRAPHQL_PATH = '/graphql';

/**
 * The longest a deployer may let API Gateway cache an authorizer answer. A revoked key keeps working
 * until the cached "yes" expires, so this is the revocation delay the README promises.
 */
export const MAX_AUTHORIZER_CACHE_TTL = Duration.seconds(5);

/** Props for {@link GraphqlApi}. */
export interface GraphqlApiProps {
  /** Job rows: created by mutations, read by queries. */
  readonly jobsTable: dynamodb.ITable;
  /** API key hashes, read by the authorizer and managed by admin mutations. */
  readonly apiKeysTable: dynamodb.ITable;
  /** Styles and models: read by queries, styles written by `registerStyle`. */
  readonly catalogTable: dynamodb.ITable;
  /** Per-owner request counters (see `Jobs.rateLimitsTable`). */
  readonly rateLimitsTable: dynamodb.ITable;
  /**
   * Requests each owner may make per minute, counting each job-creating field past the first in a
   * request as one more (the local server's budget).
   * @default 600
   */
  readonly requestsPerMinute?: number;
  /**
   * Requests each owner may make per second, so that one owner cannot take the whole stage's rate.
   * @default 20
   */
  readonly requestsPerSecond?: number;
  /** Where presigned upload forms put inputs (under `drop/`). */
  readonly uploadsBucket: s3.IBucket;
  /** Where presigned download links point (under `out/`). */
  readonly resultsBucket: s3.IBucket;
  /** Run names of training jobs start with this; `cancelJob` may stop only those. */
  readonly trainingJobPrefix: string;
  /**
   * Browser origins allowed to call the API.
   * @default - none; CORS preflight is not configured and browsers are refused
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Steady-state request rate limit for the whole API (all owners together), per second.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst request limit for the whole API.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * How long an authorizer decision is cached per token: the longest a revoked key keeps working.
   * At most {@link MAX_AUTHORIZER_CACHE_TTL}.
   * @default Duration.seconds(0) - not cached; every request checks the key
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * How long access logs and function logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The HTTP API serving GraphQL queries and mutations. */
export class GraphqlApi extends Construct {
  /** The HTTP API. */
  public readonly httpApi: apigwv2.HttpApi;
  /** The `$default` stage, with throttling and access logs. */
  public readonly stage: apigwv2.HttpStage;
  /** Runs Apollo Server. */
  public readonly graphqlFunction: HandlerFunction;
  /** Validates bearer API keys against their stored sha256 hashes. */
  public readonly authorizerFunction: HandlerFunction;
  /** The full URL of the GraphQL endpoint. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: GraphqlApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const authorizerCacheTtl = props.authorizerCacheTtl ?? Duration.seconds(0);
    if (authorizerCacheTtl.toSeconds() > MAX_AUTHORIZER_CACHE_TTL.toSeconds()) {
      throw new Error(
        `authorizerCacheTtl must be at most ${MAX_AUTHORIZER_CACHE_TTL.toSeconds()} s (a revoked key works until its cached answer expires), got ${authorizerCacheTtl.toSeconds()} s`,
      );
    }

    this.authorizerFunction = new HandlerFunction(this, 'Authorizer', {
      handler: 'authorizer',
      description: 'Checks the bearer API key of each GraphQL request',
      logRetention,
      environment: { [ENV.apiKeysTable]: props.apiKeysTable.tableName },
    });
    grantItems(this.authorizerFunction.function, props.apiKeysTable, 'dynamodb:GetItem');

    this.graphqlFunction = new HandlerFunction(this, 'Graphql', {
      handler: 'graphql',
      description: 'Apollo Server for GraphQL queries and mutations',
      timeout: Duration.seconds(29), // API Gateway's integration limit
      memorySize: 1024,
      logRetention,
      environment: {
        [ENV.jobsTable]: props.jobsTable.tableName,
        [ENV.jobsByOwnerIndex]: JOBS_TABLE_SCHEMA.ownerIndex,
        [ENV.apiKeysTable]: props.apiKeysTable.tableName,
        [ENV.catalogTable]: props.catalogTable.tableName,
        [ENV.rateLimitsTable]: props.rateLimitsTable.tableName,
        [ENV.requestsPerMinute]: String(props.requestsPerMinute ?? 600),
        [ENV.requestsPerSecond]: String(props.requestsPerSecond ?? 20),
        [ENV.uploadsBucket]: props.uploadsBucket.bucketName,
        [ENV.resultsBucket]: props.resultsBucket.bucketName,
        [ENV.trainingJobPrefix]: props.trainingJobPrefix,
      },
    });
    const fn = this.graphqlFunction.function;
    grantItems(fn, props.jobsTable, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query');
    // Only what resolvers use. Keys are created, listed and revoked with the `peerstyle keys` CLI under
    // the operator's own credentials; the function only verifies a bearer key when invoked without the
    // authorizer in front (one GetItem).
    grantItems(fn, props.apiKeysTable, 'dynamodb:GetItem');
    // Reads and lists styles and models; registerStyle puts a style item (conditional on its absence).
    // No Scan: every catalog read is within one owner's partition. No API deletes a style.
    grantItems(fn, props.catalogTable, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem');
    // Each request adds one to its owner's counters, conditionally (UpdateItem only; TTL removes them).
    grantItems(fn, props.rateLimitsTable, 'dynamodb:UpdateItem');
    // New jobs are only written: JobDispatch queues or starts them from the jobs table's stream, so
    // this function may neither send to the stylize queue nor invoke the training launcher.
    // cancelJob on a RUNNING training stops its SageMaker run; only the platform's runs.
    const trainingJobs = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: `${props.trainingJobPrefix}*`,
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sagemaker:StopTrainingJob'], resources: [trainingJobs] }));
    acknowledgeWildcardResource(
      this.graphqlFunction.role,
      trainingJobs,
      'Training run names carry the job id, known only at run time; the function may stop only runs with the platform prefix.',
    );
    // Presigned URLs carry the signer's permissions: the function may sign uploads only into uploads/
    // and downloads only of results. No resolver writes the drop folder.
    // createUpload signs a POST into uploads/ (PutObject); registerStyle and stylize check the upload
    // exists and is an image (HeadObject, which IAM authorises as GetObject); startTraining lists the
    // dataset prefix to refuse an empty one (ListBucket on uploads/ only).
    grantObjects(fn, props.uploadsBucket, BLOB_PREFIXES.uploads, 'readPut');
    // registerStyle and stylize copy the uploads they use out of reach of upload forms (CopyObject:
    // GetObject on the upload, PutObject on the copy); style images are signed for download, and a
    // retried stylize looks for its earlier copies (HeadObject, which answers 404 only with ListBucket).
    grantObjects(fn, props.uploadsBucket, BLOB_PREFIXES.savedStyles, 'readPut');
    grantObjects(fn, props.uploadsBucket, BLOB_PREFIXES.jobInputs, 'readPut');
    grantObjects(fn, props.resultsBucket, BLOB_PREFIXES.out, 'read');

    const origins = props.allowedOrigins ?? [];
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Peerstyle GraphQL queries and mutations',
      createDefaultStage: false,
      corsPreflight:
        origins.length === 0
          ? undefined
          : {
              allowOrigins: [...origins],
              allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
              allowHeaders: ['authorization', 'content-type', 'apollo-require-preflight'],
              maxAge: Duration.hours(1),
            },
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 50,
        burstLimit: props.throttlingBurstLimit ?? 100,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const authorizer = new HttpLambdaAuthorizer('ApiKeyAuthorizer', this.authorizerFunction.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: authorizerCacheTtl,
    });
    this.httpApi.addRoutes({
      path: GRAPHQL_PATH,
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Graphql', fn),
      authorizer,
    });

    this.url = `${this.httpApi.apiEndpoint}${GRAPHQL_PATH}`;
  }
}
