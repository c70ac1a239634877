/**
 * The shape every paginated listing returns.
 *
 * Cursors are opaque strings so that each adapter can encode whatever it needs (a SQLite sequence
 * number, a DynamoDB LastEvaluatedKey, an S3 continuation token) without callers depending on it.
 */

import { DomainError, ErrorCode } from '../errors';
import type { JsonValue } from '../json';

/** Options shared by every paginated listing. */
export interface PageRequest {
  /** Maximum number of items to return. @default 20 */
  limit?: number;
  /** The `nextCursor` of the previous page; omit for the first page. */
  cursor?: string;
}

/** One page of results. */
export interface Page<T> {
  items: T[];
  /** Pass this back to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Largest page any listing will return, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 100;

/** Default page size when the caller does not choose one. */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * Clamps a requested page size into 1..MAX_PAGE_SIZE, defaulting when absent, and rejects values that
 * are not positive integers so that a client bug surfaces instead of silently returning everything.
 */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `Page limit must be a positive integer, got ${limit}.`, {
      field: 'limit',
    });
  }
  return Math.min(limit, MAX_PAGE_SIZE);
}

/** Encodes an adapter's position as an opaque, URL-safe cursor. */
export function encodeCursor(position: JsonValue): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor`, checking its shape with `isValid`; a cursor that was forged,
 * truncated or made by another listing is BAD_REQUEST rather than a crash or a silent restart.
 */
export function decodeCursor<T extends JsonValue>(cursor: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) {
    throw new DomainError(ErrorCode.BAD_REQUEST, 'Invalid page cursor: pass back the nextCursor of a previous page.', {
      field: 'cursor',
    });
  }
  return value;
}
