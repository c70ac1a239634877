/**
 * The one place the drop-folder, dispatcher, training and worker entry points read `process.env`.
 *
 * Variable names come from the table the CDK stack sets them from (infra/lib/handlers.ts, plain data
 * with no aws-cdk-lib import), so a renamed variable breaks the build instead of a deployment. Every
 * missing or malformed variable is reported in one error, so a misconfigured function says everything
 * that is wrong on its first cold start. Endpoints follow the SDK's own `AWS_ENDPOINT_URL_<SERVICE>`
 * names; they are read here, rather than left to the SDK, because an S3 endpoint other than AWS's
 * also needs path-style addressing.
 */

import { ENV } from '../../../infra/lib/handlers';
import { DomainError, ErrorCode } from '../../core';
import type { AwsClientConfig } from '../../adapters/aws';

/** A variable the stack sets, by its key in `ENV`. */
export type EnvName = keyof typeof ENV;

/** Client settings per service; empty objects on AWS, where the SDK finds everything itself. */
export interface AwsServiceConfigs {
  s3: AwsClientConfig;
  dynamodb: AwsClientConfig;
  sqs: AwsClientConfig;
}

/** Reads the named variables; every missing one is named in the one error thrown. */
export function readEnv<K extends EnvName>(
  names: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Record<K, string> {
  const values = {} as Record<K, string>;
  const missing: string[] = [];
  for (const name of names) {
    const value = env[ENV[name]];
    if (value === undefined || value.trim() === '') missing.push(ENV[name]);
    else values[name] = value.trim();
  }
  if (missing.length > 0) {
    throw new DomainError(ErrorCode.INTERNAL, `Missing environment variables: ${missing.join(', ')}.`, { missing });
  }
  return values;
}

/** Reads an optional variable, or `fallback` when unset. */
export function readOptionalEnv(name: EnvName, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[ENV[name]];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

/** Parses a positive integer variable, naming it in the error. */
export function positiveIntegerEnv(name: EnvName, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new DomainError(ErrorCode.INTERNAL, `${ENV[name]} must be a positive integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

/** Parses "true"/"false", naming the variable in the error. */
export function booleanEnv(name: EnvName, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new DomainError(ErrorCode.INTERNAL, `${ENV[name]} must be "true" or "false", got ${JSON.stringify(value)}.`);
}

/** Per-service client settings: endpoints from `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`, when set. */
export function readAwsServiceConfigs(env: NodeJS.ProcessEnv = process.env): AwsServiceConfigs {
  // Region and keys are passed on only when the given environment has them, so that code handed an
  // environment other than process.env is configured by it alone; on AWS neither is set this way.
  const { AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  const common: AwsClientConfig = {
    ...(region !== undefined && region !== '' && { region }),
    ...(accessKeyId !== undefined &&
      secretAccessKey !== undefined && {
        credentials: {
          accessKeyId,
          secretAccessKey,
          ...(env.AWS_SESSION_TOKEN !== undefined && { sessionToken: env.AWS_SESSION_TOKEN }),
        },
      }),
  };
  const endpoint = (service: string): AwsClientConfig => {
    const url = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
    return url !== undefined && url !== '' ? { ...common, endpoint: url } : common;
  };
  return { s3: endpoint('S3'), dynamodb: endpoint('DYNAMODB'), sqs: endpoint('SQS') };
}

/** Batch's attempt number for this container (AWS_BATCH_JOB_ATTEMPT); 1 when not under Batch. */
export function readBatchAttempt(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.AWS_BATCH_JOB_ATTEMPT;
  if (raw === undefined || raw === '') return 1;
  const attempt = Number(raw);
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new DomainError(
      ErrorCode.INTERNAL,
      `AWS_BATCH_JOB_ATTEMPT must be a positive integer, got ${JSON.stringify(raw)}.`,
    );
  }
  return attempt;
}
