/**
 * Builds the transport-agnostic GraphQL server: Apollo with the shared document rules (see
 * `validation`), the error boundary, and the same rules for the WebSocket transports.
 *
 * Apollo is driven through `executeHTTPGraphQLRequest` (see `functions/local/http`), so this module
 * knows nothing about sockets; a Lambda adapter can wrap the same server.
 */

import { ApolloServer } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { GraphQLContext } from './context';
import { consoleErrorLogger, formatGraphQLError, type ErrorLogger } from './errors';
import { createValidation, type QueryLimits, type Validation } from './validation';

export type { QueryLimits } from './validation';

/** Options for `createGraphQLServer`. */
export interface GraphQLServerOptions {
  schema: GraphQLSchema;
  limits?: QueryLimits;
  /** Allow schema introspection (over HTTP). @default false */
  introspection?: boolean;
  /** Where unexpected errors are logged. @default console.error */
  log?: ErrorLogger;
}

/** The Apollo server and the pieces the WebSocket transports share with it. */
export interface GraphQLServer {
  apollo: ApolloServer<GraphQLContext>;
  /** The document rules, for every transport. */
  validation: Validation;
  /** The error boundary, for transports that format errors themselves. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** Creates the hardened Apollo server (not yet started). */
export function createGraphQLServer(options: GraphQLServerOptions): GraphQLServer {
  const log = options.log ?? consoleErrorLogger;
  const validation = createValidation({
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
    introspection: options.introspection ?? false,
  });
  const formatError: GraphQLServer['formatError'] = (formatted, error) => formatGraphQLError(formatted, error, log);
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    // The shared rules already refuse introspection when it is off; Apollo's own switch agrees with
    // them (it adds a second rule with the same effect, never a looser one).
    introspection: validation.introspection,
    validationRules: [...validation.rules('http')],
    parseOptions: { maxTokens: validation.maxTokens },
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    formatError,
    // The process that hosts the server owns its signals: `peerstyle serve` answers SIGTERM by handing
    // running jobs back before it exits. Apollo's own handler (on by default outside tests) stopped the
    // API and re-raised the signal, which cut that shutdown short.
    stopOnTerminationSignals: false,
  });
  return { apollo, validation, formatError };
}
