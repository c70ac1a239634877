/**
 * The GraphQL error boundary: every error a client sees carries a code from the closed set in
 * `extensions.code`, and nothing unexpected leaks.
 *
 * A DomainError keeps its code and message. Errors GraphQL itself raises before running anything (a
 * syntax error, an unknown field, a query over the depth, alias or cost limit, a variable of the wrong
 * type) are the client's fault and become BAD_REQUEST, with the original GraphQL code kept in
 * `extensions.reason`. Anything else is masked as INTERNAL and logged with an id the client can quote.
 * No message keeps graphql-js's field suggestions, on any transport.
 */

import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ERROR_CODES, ErrorCode, isDomainError, type DomainError } from '../core';
import { withoutSuggestions } from './validation';

/** Where masked errors are reported. */
export type ErrorLogger = (message: string, error: unknown) => void;

/** Codes Apollo and graphql-armor give to request errors, all of which are the client's to fix. */
const CLIENT_GRAPHQL_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

function findDomainError(error: unknown): DomainError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (isDomainError(current)) return current;
    current = current instanceof GraphQLError ? current.originalError : (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Formats one error for a client; `error` is the raw error, `formatted` graphql-js's rendering of it. */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log: ErrorLogger,
): GraphQLFormattedError {
  const domain = findDomainError(error);
  const base = {
    message: withoutSuggestions(formatted.message),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
  if (domain !== undefined) {
    return {
      ...base,
      message: domain.message,
      extensions: { code: domain.code, ...(domain.details ? { details: domain.details } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) {
    return { ...base, extensions: { code } };
  }
  const original = error instanceof GraphQLError ? error.originalError : error;
  const fromGraphQL =
    error instanceof GraphQLError && (original === undefined || original === null || original instanceof GraphQLError);
  if ((typeof code === 'string' && CLIENT_GRAPHQL_CODES.has(code)) || fromGraphQL) {
    return {
      ...base,
      extensions: { code: ErrorCode.BAD_REQUEST, ...(typeof code === 'string' ? { reason: code } : {}) },
    };
  }
  const errorId = randomUUID();
  log(`Unexpected error ${errorId}`, original ?? error);
  return { ...base, message: `Internal error (id ${errorId}).`, extensions: { code: ErrorCode.INTERNAL, errorId } };
}

/** Logs to stderr; the composition root may pass its structured logger instead. */
export const consoleErrorLogger: ErrorLogger = (message, error) => {
  console.error(message, error);
};
