/**
 * The CDK app entry point (`npx cdk synth` / `npx cdk deploy` from the
 * repository root, through cdk.json).
 *
 * Deployer settings come from CDK context, e.g.
 * `npx cdk deploy -c allowedOrigins=https://app.example.com -c gpuMaxvCpus=32`;
 * everything else has a default in the constructs.
 */
import { App } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { enableAwsSolutionsChecks } from './lib/nag';
import { PeerstyleStack } from './lib/peerstyle-stack';

const app = new App();

/** A context value as a trimmed list, from `a,b` on the command line or a JSON array in cdk.json. */
function listContext(key: string): string[] | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((item) => item.trim()).filter((item) => item.length > 0);
}

function numberContext(key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`Context ${key} must be a number, got ${String(value)}`);
  return parsed;
}

function stringContext(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined ? undefined : String(value);
}

function booleanContext(key: string): boolean | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  return value === true || value === 'true';
}

new PeerstyleStack(app, 'Peerstyle', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Peerstyle: arbitrary image style transfer (TSPR) as a GraphQL platform',
  allowedOrigins: listContext('allowedOrigins'),
  gpuInstanceTypes: listContext('gpuInstanceTypes')?.map((type) => new ec2.InstanceType(type)),
  gpuMaxvCpus: numberContext('gpuMaxvCpus'),
  trainingInstanceType: stringContext('trainingInstanceType'),
  trainingUseSpot: booleanContext('trainingUseSpot'),
  uploadRetentionDays: numberContext('uploadRetentionDays'),
  resultRetentionDays: numberContext('resultRetentionDays'),
  setApiGatewayAccountLoggingRole: booleanContext('setApiGatewayAccountLoggingRole'),
});

enableAwsSolutionsChecks(app);
