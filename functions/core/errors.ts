/**
 * The closed set of error codes the platform speaks, and the one error class that carries them.
 *
 * Every failure a caller may act on is a `DomainError` with a code from `ErrorCode`. Adapters translate
 * their SDK's errors into these codes (a missing S3 object becomes NOT_FOUND), and the GraphQL boundary
 * copies the code into `extensions.code` while masking anything that is not a `DomainError`. Keeping the
 * set closed lets clients switch on it exhaustively.
 */

/** Every error code a client can receive. Adding one is an API change. */
export enum ErrorCode {
  /** The request is malformed or a value is out of range. */
  BAD_REQUEST = 'BAD_REQUEST',
  /** The thing asked for does not exist, or belongs to someone else. */
  NOT_FOUND = 'NOT_FOUND',
  /** The caller is known but may not do this. */
  FORBIDDEN = 'FORBIDDEN',
  /** No valid credentials were presented. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The stored state changed under the caller (a conditional write lost a race). */
  CONFLICT = 'CONFLICT',
  /** The bytes are not a decodable image. */
  INVALID_IMAGE = 'INVALID_IMAGE',
  /** The image's header reads, but its pixel data is damaged or cut short. */
  TRUNCATED = 'TRUNCATED',
  /** The file has no bytes at all. */
  EMPTY = 'EMPTY',
  /** The payload exceeds a size or dimension limit. */
  TOO_LARGE = 'TOO_LARGE',
  /** The content type or file format is not accepted. */
  UNSUPPORTED_FORMAT = 'UNSUPPORTED_FORMAT',
  /** The caller sent too many requests (or job-creating fields) in the time window. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The owner already holds as many queued or running jobs (or training runs) as allowed. */
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  /**
   * A training request would take more compute (FLOPs per iteration × steps, added to the owner's other
   * queued or running training) or more memory per iteration than the server's training budget allows.
   */
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
  /** An idempotency key was reused with a different request or job kind. */
  IDEMPOTENCY_CONFLICT = 'IDEMPOTENCY_CONFLICT',
  /** A signed URL, upload policy or lease has run out of time. */
  EXPIRED = 'EXPIRED',
  /** A job status change that the state machine forbids. */
  ILLEGAL_TRANSITION = 'ILLEGAL_TRANSITION',
  /** The work was cancelled at the owner's request. */
  CANCELLED = 'CANCELLED',
  /** The work was retried as often as allowed and still did not finish. */
  RETRIES_EXHAUSTED = 'RETRIES_EXHAUSTED',
  /** A dependency (storage, database, queue) is unreachable for now; retrying may help. */
  UNAVAILABLE = 'UNAVAILABLE',
  /** Anything unexpected; details are logged, never shown to clients. */
  INTERNAL = 'INTERNAL',
}

/** All codes, in declaration order, for validation and for messages that list the valid options. */
export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

/** Structured context that travels with an error (field names, limits, the offending value). */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * A failure the platform expected and can describe: it carries a code from the closed set and an
 * optional bag of details for clients that want more than the message.
 */
export class DomainError extends Error {
  /** The machine-readable reason; clients switch on this, never on the message. */
  readonly code: ErrorCode;
  /** Structured context such as the limit that was exceeded. */
  readonly details?: ErrorDetails;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** True when `value` is a `DomainError`, optionally with the given code. */
export function isDomainError(value: unknown, code?: ErrorCode): value is DomainError {
  return value instanceof DomainError && (code === undefined || value.code === code);
}

/**
 * Turns `value` into one of `allowed`, or throws BAD_REQUEST naming every valid option, so that a
 * typo such as "STYLISE" is answered with the list the caller should have chosen from.
 */
export function parseOneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new DomainError(
    ErrorCode.BAD_REQUEST,
    `Unknown ${what} ${JSON.stringify(value)}. Expected one of: ${allowed.join(', ')}.`,
    { field: what, allowed },
  );
}

/** A BAD_REQUEST error; `field`, when given, names the offending input in the details. */
export function badRequest(message: string, field?: string): DomainError {
  return new DomainError(ErrorCode.BAD_REQUEST, message, field === undefined ? undefined : { field });
}

/** A BAD_REQUEST error whose message starts with the field it is about: `steps: must be ...`. */
export function badField(field: string, message: string): DomainError {
  return badRequest(`${field}: ${message}`, field);
}
