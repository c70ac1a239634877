/**
 * The request limiter port: a per-owner request budget, charged once per request and once more per
 * job-creating field beyond the first (see `jobCharger` in graphql/auth.ts).
 *
 * The local server keeps its budget in memory (one process); on AWS, where every request may land on
 * a different Lambda instance, the budget lives in DynamoDB. Both refuse with the same error, built
 * here, so a client sees one RATE_LIMITED shape whichever runtime answers.
 */

import { DomainError, ErrorCode } from '../errors';

/** Takes one request from an owner's budget. */
export interface RequestLimiter {
  /** Takes one token for `owner`, or throws RATE_LIMITED with `retryAfterSeconds` in its details. */
  take(owner: string): void | Promise<void>;
}

/** The RATE_LIMITED error for a budget of `limit` requests per `per`, free again in `retryAfterSeconds`. */
export function rateLimited(limit: number, per: 'second' | 'minute', retryAfterSeconds: number): DomainError {
  return new DomainError(
    ErrorCode.RATE_LIMITED,
    `Too many requests: the limit is ${limit} per ${per}. Retry in ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}
