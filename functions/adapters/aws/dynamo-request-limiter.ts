/**
 * `DynamoRequestLimiter`: per-owner request budgets on AWS, as fixed-window counters in a DynamoDB
 * table, so that every Lambda instance charges the same budget.
 *
 * Each request adds one to the owner's counter item for the current second and for the current
 * minute, with a conditional update that fails once the count has reached the limit; the conditional
 * write is atomic, so concurrent requests cannot overshoot. Items carry an expiry for DynamoDB TTL
 * and disappear shortly after their window. A fixed window lets up to twice the limit through across
 * a window boundary; the per-second window bounds that burst. The second is charged first: a request
 * refused by the minute window has then spent a token only of a window that ends within a second.
 */

import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { rateLimited, systemClock } from '../../core';
import type { Clock, RequestLimiter } from '../../core';
import { awsErrorName, translateAwsError } from './aws-errors';

/** The rate-limits table's attributes, as infra/lib/jobs.ts provisions it. */
export const DYNAMO_RATE_LIMITS_TABLE = { partitionKey: 'pk', ttlAttribute: 'expiresAt' } as const;

/** Options for `DynamoRequestLimiter`. */
export interface DynamoRequestLimiterOptions {
  /** A client from `createDynamoDbDocumentClient`. */
  client: DynamoDBDocumentClient;
  /** The rate-limits table (env PEERSTYLE_RATE_LIMITS_TABLE). */
  tableName: string;
  /** Requests per owner per minute (the local server's budget). */
  perMinute: number;
  /** Requests per owner per second. */
  perSecond: number;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

/** How long a counter item outlives its window before TTL may remove it, in seconds. */
const GRACE_SECONDS = 60;

interface Window {
  code: 's' | 'm';
  per: 'second' | 'minute';
  seconds: number;
  limit: number;
}

/** Per-owner budgets in DynamoDB. */
export class DynamoRequestLimiter implements RequestLimiter {
  private readonly windows: readonly Window[];
  private readonly clock: Clock;

  constructor(private readonly options: DynamoRequestLimiterOptions) {
    for (const [name, value] of [
      ['perMinute', options.perMinute],
      ['perSecond', options.perSecond],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
    }
    this.windows = [
      { code: 's', per: 'second', seconds: 1, limit: options.perSecond },
      { code: 'm', per: 'minute', seconds: 60, limit: options.perMinute },
    ];
    this.clock = options.clock ?? systemClock;
  }

  async take(owner: string): Promise<void> {
    const now = this.clock();
    for (const window of this.windows) await this.charge(owner, window, now);
  }

  private async charge(owner: string, window: Window, now: number): Promise<void> {
    const start = Math.floor(now / 1000 / window.seconds) * window.seconds;
    const end = start + window.seconds;
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          // The owner comes first and the window's fixed-format suffix last, so no two owners share a key.
          Key: { [DYNAMO_RATE_LIMITS_TABLE.partitionKey]: `${owner}#${window.code}#${start}` },
          UpdateExpression: 'ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#expiresAt': DYNAMO_RATE_LIMITS_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':one': 1, ':limit': window.limit, ':expiresAt': end + GRACE_SECONDS },
        }),
      );
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') {
        throw rateLimited(window.limit, window.per, Math.max(1, Math.ceil(end - now / 1000)));
      }
      throw translateAwsError(error, 'Charging the request budget');
    }
  }
}
