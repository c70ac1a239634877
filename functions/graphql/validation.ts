/**
 * The one set of document rules every transport applies: the local HTTP route and WebSocket endpoint,
 * and the AWS GraphQL and WebSocket Lambdas all take their rules from `createValidation`, so a document
 * is accepted or refused alike wherever it arrives.
 *
 * The rules are graphql-js's own, the query limits (depth, aliases, cost, directives through
 * graphql-armor; tokens through graphql-js's parser), introspection (`__schema`, `__type`) unless it
 * is switched on, and the operation types each transport serves: queries and mutations over HTTP,
 * subscriptions over the WebSocket. Field suggestions ("Did you mean …?") are removed from messages by
 * `withoutSuggestions`, which the error boundary applies to every error it formats.
 */

import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationTypeNode,
  type ValidationRule,
} from 'graphql';

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

/** How a document reached the server. */
export type Transport = 'http' | 'websocket';

/** Options for `createValidation`. */
export interface ValidationOptions {
  limits?: QueryLimits;
  /** Allow `__schema` and `__type` (over HTTP: the WebSocket serves subscriptions only). @default false */
  introspection?: boolean;
}

/** The rules of one server, for each transport. */
export interface Validation {
  /** Most lexical tokens in one document, for `parse`. */
  maxTokens: number;
  /** Whether introspection is allowed. */
  introspection: boolean;
  /** The rules beyond graphql-js's `specifiedRules` a document sent over `transport` must pass. */
  rules(transport: Transport): readonly ValidationRule[];
  /** Parses `source` within the token limit and validates it with every rule for `transport`. */
  check(
    schema: GraphQLSchema,
    source: string,
    transport: Transport,
  ): { document: DocumentNode; errors?: undefined } | { errors: readonly GraphQLError[] };
}

/** The message a document gets when it asks a transport for an operation type it does not serve. */
export const WRONG_TRANSPORT: Readonly<Record<Transport, string>> = {
  http: 'Subscriptions are served over the WebSocket (graphql-ws on the same path); send queries and mutations over HTTP.',
  websocket: 'Only subscriptions are served over the WebSocket; send queries and mutations over HTTP.',
};

const SERVED: Readonly<Record<Transport, readonly OperationTypeNode[]>> = {
  http: ['query', 'mutation'] as OperationTypeNode[],
  websocket: ['subscription'] as OperationTypeNode[],
};

/** Refuses every operation of a type `transport` does not serve. */
function operationTypeRule(transport: Transport): ValidationRule {
  return (context) => ({
    [Kind.OPERATION_DEFINITION](node) {
      if (!SERVED[transport].includes(node.operation)) {
        context.reportError(new GraphQLError(WRONG_TRANSPORT[transport], { nodes: node }));
      }
    },
  });
}

/** Builds the rules from the limits and the introspection switch. */
export function createValidation(options: ValidationOptions = {}): Validation {
  const limits = options.limits ?? {};
  const introspection = options.introspection ?? false;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth ?? 8 },
    maxAliases: { n: limits.maxAliases ?? 15 },
    costLimit: { maxCost: limits.maxCost ?? 5000 },
    // graphql-armor's token plugin re-parses inside an Apollo hook, which turns any syntax error into
    // a 500; graphql-js's own `maxTokens` parse option enforces the same limit as a 400.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.maxDirectives ?? 20 },
    // Its plugin works on Apollo's responses only; `withoutSuggestions` covers every transport.
    blockFieldSuggestion: { enabled: false },
  });
  const shared = [...armor.protect().validationRules, ...(introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const byTransport: Record<Transport, readonly ValidationRule[]> = {
    http: [...shared, operationTypeRule('http')],
    websocket: [...shared, operationTypeRule('websocket')],
  };
  const maxTokens = limits.maxTokens ?? 2000;
  return {
    maxTokens,
    introspection,
    rules: (transport) => byTransport[transport],
    check(schema, source, transport) {
      let document: DocumentNode;
      try {
        document = parse(source, { maxTokens });
      } catch (error) {
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
      const errors = validate(schema, document, [...specifiedRules, ...byTransport[transport]]);
      return errors.length > 0 ? { errors } : { document };
    },
  };
}

/**
 * A message without graphql-js's guesses at what the client meant ("Did you mean "type"?"), which
 * would list field, argument, type and enum names to a client that cannot introspect them.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^?]*\?/g, '');
}
