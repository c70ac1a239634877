/**
 * API-key authentication and per-owner rate limiting, shared by the HTTP and WebSocket transports.
 *
 * Keys arrive as `Authorization: Bearer <key>` (HTTP) or in the graphql-ws `connection_init` payload as
 * `{ authorization: "Bearer <key>" }` or `{ apiKey: "<key>" }`. Failures are DomainErrors, so every
 * transport reports them with the same code.
 */

import { DomainError, ErrorCode, rateLimited } from '../core';
import type { ApiKeyStore, Clock, RequestLimiter } from '../core';

/** Pulls the key out of an Authorization header value, or returns null when it is not a Bearer header. */
export function bearerKey(header: string | undefined | null): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Pulls the key out of a graphql-ws connection_init payload. */
export function connectionKey(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const record = payload as Record<string, unknown>;
  if (typeof record.apiKey === 'string' && record.apiKey.length > 0) return record.apiKey;
  return bearerKey(typeof record.authorization === 'string' ? record.authorization : null);
}

/** The error for a key that does not (or no longer) verify, on every transport. */
export function unknownOrRevokedKey(): DomainError {
  return new DomainError(ErrorCode.UNAUTHENTICATED, 'The API key is unknown or revoked.');
}

/** Verifies a presented key and returns its owner, or throws UNAUTHENTICATED. */
export async function authenticate(keys: ApiKeyStore, key: string | null): Promise<string> {
  if (key === null) {
    throw new DomainError(
      ErrorCode.UNAUTHENTICATED,
      'An API key is required: send "Authorization: Bearer <key>" (or apiKey in the WebSocket connection_init payload).',
    );
  }
  const owner = await keys.verify(key);
  if (owner === null) throw unknownOrRevokedKey();
  return owner;
}

/** Options for `RateLimiter`. */
export interface RateLimiterOptions {
  /** Requests each owner may make per minute; also the burst size. */
  perMinute: number;
  /** @default Date.now */
  clock?: Clock;
  /** Buckets kept before idle ones are forgotten, bounding memory. @default 10000 */
  maxBuckets?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per owner, in memory. It guards one process only, so it serves the local server; on
 * AWS the budget is shared through DynamoDB (`DynamoRequestLimiter`), with the same error.
 */
export class RateLimiter implements RequestLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: Clock;
  private readonly maxBuckets: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.clock = options.clock ?? Date.now;
    this.maxBuckets = options.maxBuckets ?? 10_000;
  }

  /** Takes one token for `owner`, or throws RATE_LIMITED with the time to wait. */
  take(owner: string): void {
    const now = this.clock();
    const capacity = this.options.perMinute;
    const refillPerMs = capacity / 60_000;
    const bucket = this.buckets.get(owner) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * refillPerMs);
    bucket.at = now;
    // Re-inserting keeps the map in least-recently-used order, so trimming drops idle owners first.
    this.buckets.delete(owner);
    this.buckets.set(owner, bucket);
    if (this.buckets.size > this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens < 1) {
      throw rateLimited(capacity, 'minute', Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
    }
    bucket.tokens -= 1;
  }
}

/**
 * Charges job-creating fields (`stylize`, `startTraining`) to the owner's rate limit, one token each.
 * The request itself has already paid one token, which covers its first job; every further field in
 * the same request (aliases, or several mutations in one document) takes one more, so a request with
 * 15 aliased `stylize` fields costs 15 tokens, the same as 15 separate requests.
 */
export function jobCharger(limiter: RequestLimiter, owner: string): () => void | Promise<void> {
  let prepaid = 1;
  return () => {
    if (prepaid > 0) {
      prepaid -= 1;
      return;
    }
    return limiter.take(owner);
  };
}
