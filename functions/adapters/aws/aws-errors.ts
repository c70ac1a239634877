/**
 * Translation of AWS SDK failures into the platform's closed error vocabulary.
 *
 * Every AWS adapter funnels unexpected SDK errors through `translateAwsError`, so that a throttle reads
 * as UNAVAILABLE and a denied call as FORBIDDEN whichever service raised it; each adapter first handles
 * the few error names that mean something specific to it (S3 `NoSuchKey` is NOT_FOUND, a DynamoDB
 * `ConditionalCheckFailedException` is a lost race). Matching is on the error's `name`, which the SDK
 * sets from the service's error code, so no SDK class needs to be imported here.
 */

import { DomainError, ErrorCode } from '../../core';

/** The SDK error name (the service's error code), or undefined for errors that are not from the SDK. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** The HTTP status the service answered with, when there was an answer. */
export function awsHttpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

const UNAVAILABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalServerError',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
]);

const FORBIDDEN_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/**
 * Turns an SDK error into a DomainError: throttling and server faults become UNAVAILABLE (the caller
 * may retry), denials FORBIDDEN, anything else INTERNAL. DomainErrors pass through unchanged, and the
 * original error rides along as `cause` for the logs.
 */
export function translateAwsError(error: unknown, what: string): DomainError {
  if (error instanceof DomainError) return error;
  const name = awsErrorName(error) ?? 'Error';
  const status = awsHttpStatus(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (
    UNAVAILABLE_NAMES.has(name) ||
    (typeof code === 'string' && UNAVAILABLE_NAMES.has(code)) ||
    (status ?? 0) >= 500
  ) {
    return new DomainError(
      ErrorCode.UNAVAILABLE,
      `${what} failed: the service is unavailable (${name}); retry later.`,
      { awsError: name },
      { cause: error },
    );
  }
  if (FORBIDDEN_NAMES.has(name) || status === 403) {
    return new DomainError(
      ErrorCode.FORBIDDEN,
      `${what} was refused by AWS (${name}).`,
      { awsError: name },
      { cause: error },
    );
  }
  return new DomainError(
    ErrorCode.INTERNAL,
    `${what} failed unexpectedly (${name}).`,
    { awsError: name },
    { cause: error },
  );
}
