/**
 * The one reader of `process.env` for every Lambda handler and the Batch worker container.
 *
 * Variable names come from `ENV` in infra/lib/handlers.ts, the table the CDK stack sets them from.
 * That file is plain data with no aws-cdk-lib import, so a function bundle gains a few strings and no
 * infrastructure code, and a renamed variable breaks the build instead of a deployment. Each handler
 * asks for its required and optional settings once; every missing variable is named in one error, so
 * a misconfigured function says everything that is wrong on its first cold start. SDK endpoints follow
 * the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` names; they are read here, rather than left to the SDK,
 * because an S3 endpoint other than AWS's also needs path-style addressing.
 */

import { ENV } from '../../../infra/lib/handlers';
import type { AwsClientConfig } from '../../adapters/aws';
import { DomainError, ErrorCode } from '../../core';

/** Environment variables the stack sets, by setting name. */
export const HANDLER_ENV = ENV;

/** A setting a handler may read: a key of {@link HANDLER_ENV}. */
export type HandlerSetting = keyof typeof ENV;

/** The values of the required settings, and of the optional ones that are set. */
export type HandlerSettings<R extends HandlerSetting, O extends HandlerSetting = never> = { [K in R]: string } & {
  [K in O]?: string;
};

/** Client settings per service; empty objects on AWS, where the SDK finds everything itself. */
export interface AwsServiceConfigs {
  s3: AwsClientConfig;
  dynamodb: AwsClientConfig;
  sqs: AwsClientConfig;
  lambda: AwsClientConfig;
}

function valueOf(env: NodeJS.ProcessEnv, name: HandlerSetting): string | undefined {
  // Blank counts as unset: the stack never sets an empty value on purpose.
  const value = env[ENV[name]]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Reads `required` and `optional` settings from `env`. Throws INTERNAL naming every missing required
 * variable at once, since the stack and the handler disagree and no retry can help.
 */
export function readHandlerEnv<R extends HandlerSetting, O extends HandlerSetting = never>(
  required: readonly R[],
  optional: readonly O[] = [],
  env: NodeJS.ProcessEnv = process.env,
): HandlerSettings<R, O> {
  const settings: Partial<Record<HandlerSetting, string>> = {};
  const missing: string[] = [];
  for (const name of required) {
    const value = valueOf(env, name);
    if (value === undefined) missing.push(ENV[name]);
    else settings[name] = value;
  }
  if (missing.length > 0) {
    throw new DomainError(ErrorCode.INTERNAL, `Missing environment variables: ${missing.join(', ')}.`, { missing });
  }
  for (const name of optional) {
    const value = valueOf(env, name);
    if (value !== undefined) settings[name] = value;
  }
  return settings as HandlerSettings<R, O>;
}

/** Reads an optional setting, or `fallback` when unset. */
export function readOptionalEnv(name: HandlerSetting, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return valueOf(env, name) ?? fallback;
}

/** Parses a positive integer setting, naming its variable in the error. */
export function positiveIntegerEnv(name: HandlerSetting, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new DomainError(ErrorCode.INTERNAL, `${ENV[name]} must be a positive integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

/** Parses "true"/"false", naming the variable in the error. */
export function booleanEnv(name: HandlerSetting, value: string): boolean {
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
  return { s3: endpoint('S3'), dynamodb: endpoint('DYNAMODB'), sqs: endpoint('SQS'), lambda: endpoint('LAMBDA') };
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

/** Builds a value on first use and keeps it for the container's lifetime (warm invocations reuse it). */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
