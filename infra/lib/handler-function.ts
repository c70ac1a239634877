/**
 * One Lambda function running one of the handlers in functions/handlers/.
 *
 * Every function in the platform is built the same way: Node.js 24 on ARM,
 * bundled by the local esbuild (no Docker needed), its own log group with a
 * retention period, and its own role that may write only to that log group.
 * Building them here keeps those choices in one place and lets each task's
 * construct grant exactly the data access its handler needs.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HANDLER_ENTRIES, type HandlerName } from './handlers';

/**
 * Context key naming the directory that holds package-lock.json and
 * functions/handlers/. Synthesis of the real app never sets it; tests point it
 * at a scratch tree of stub handlers, because NodejsFunction insists that its
 * entry file exists even when bundling is skipped.
 */
export const SOURCE_ROOT_CONTEXT = 'peerstyle:sourceRoot';

/** The repository root, two levels above infra/lib/. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/** Props for {@link HandlerFunction}. */
export interface HandlerFunctionProps {
  /** Which handler in functions/handlers/ this function runs. */
  readonly handler: HandlerName;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /**
   * How long one invocation may run.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB; Lambda scales CPU with it.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Environment variables, named by the ENV table in handlers.ts.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A NodejsFunction for one handler, with a dedicated log group and a role
 * that starts with nothing but permission to write to that log group.
 */
export class HandlerFunction extends Construct {
  /** Which entry of HANDLER_ENTRIES the function runs. */
  public readonly handler: HandlerName;
  /** The function; pass it to grants and event sources. */
  public readonly function: NodejsFunction;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** Where the function writes its logs. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.handler = props.handler;
    const sourceRoot: string = this.node.tryGetContext(SOURCE_ROOT_CONTEXT) ?? REPOSITORY_ROOT;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // A role of our own instead of the default one, which would carry the
    // AWSLambdaBasicExecutionRole managed policy (log writes to any group).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.handler} handler`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(sourceRoot, HANDLER_ENTRIES[props.handler]),
      projectRoot: sourceRoot,
      depsLockFilePath: path.join(sourceRoot, 'package-lock.json'),
      handler: 'handler',
      description: props.description,
      // Node.js 24, the newest Lambda runtime aws-cdk-lib offers (supported into
      // 2028). Node 20 reached its end of life on 2026-04-30 and Lambda deprecated
      // it. The sources stay compatible with Node 20, which the local runtime
      // still supports (engines); every handler is async, as nodejs24.x requires.
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      role: this.role,
      logGroup: this.logGroup,
      bundling: {
        format: OutputFormat.CJS,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // Bundle the AWS SDK rather than use the runtime's copy, so the
        // deployed code runs the same SDK versions that the tests ran.
        externalModules: [],
      },
    });
  }
}
