/**
 * Builds the transport-agnostic GraphQL server: Apollo with the query limits, introspection switch and
 * error boundary, plus the validation rules the WebSocket transport must apply to subscriptions too.
 *
 * Apollo is driven through `executeHTTPGraphQLRequest` (see `functions/local/http`), so this module
 * knows nothing about sockets; a Lambda adapter can wrap the same server.
 */

import { ApolloServer } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLFormattedError, GraphQLSchema, ValidationRule } from 'graphql';
import type { GraphQLContext } from './context';
import { consoleErrorLogger, formatGraphQLError, type ErrorLogger } from './errors';

/** Limits on what one operation may ask for. */
export interface QueryLimits {
  /** Deepest selection nesting. @default 8 */
  maxDepth?: number;
  /** Most aliases in one operation. @default 15 */
  maxAliases?: number;
  /** Highest graphql-armor cost (depth × fields). @default 5000 */
  maxCost?: number;
  /** Most lexical tokens in one document. @default 2000 */
  maxTokens?: number;
  /** Most directives in one operation. @default 20 */
  maxDirectives?: number;
}

/** Options for `createGraphQLServer`. */
export interface GraphQLServerOptions {
  schema: GraphQLSchema;
  limits?: QueryLimits;
  /** Allow schema introspection. @default false */
  introspection?: boolean;
  /** Where unexpected errors are logged. @default console.error */
  log?: ErrorLogger;
}

/** The Apollo server and the pieces the WebSocket transport shares with it. */
export interface GraphQLServer {
  apollo: ApolloServer<GraphQLContext>;
  /** graphql-armor's rules, to run on subscription documents as well. */
  validationRules: ValidationRule[];
  /** Most lexical tokens in one document, to pass to `parse` on other transports. */
  maxTokens: number;
  /** The error boundary, for transports that format errors themselves. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** Creates the hardened Apollo server (not yet started). */
export function createGraphQLServer(options: GraphQLServerOptions): GraphQLServer {
  const limits = options.limits ?? {};
  const log = options.log ?? consoleErrorLogger;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth ?? 8 },
    maxAliases: { n: limits.maxAliases ?? 15 },
    costLimit: { maxCost: limits.maxCost ?? 5000 },
    // graphql-armor's token plugin re-parses inside an Apollo hook, which turns any syntax error into
    // a 500; graphql-js's own `maxTokens` parse option (below) enforces the same limit as a 400.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.maxDirectives ?? 20 },
    blockFieldSuggestion: { enabled: true },
  });
  const protection = armor.protect();
  const maxTokens = limits.maxTokens ?? 2000;
  const formatError: GraphQLServer['formatError'] = (formatted, error) => formatGraphQLError(formatted, error, log);
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: options.introspection ?? false,
    plugins: protection.plugins,
    validationRules: protection.validationRules,
    parseOptions: { maxTokens },
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // Armor already answers unknown fields without guessing; Apollo would otherwise add "Did you mean".
    hideSchemaDetailsFromClientErrors: true,
    formatError,
  });
  return { apollo, validationRules: protection.validationRules, maxTokens, formatError };
}
