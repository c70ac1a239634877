/**
 * Subscription documents over the WebSocket API: checking a graphql-ws `subscribe` payload against the
 * schema, and rendering a job event through the stored document as the `next` payload a client gets.
 *
 * The Lambda side never runs graphql-js's `subscribe` (a function cannot hold an async iterator
 * between invocations); instead each event is executed with the event as the root value, which is
 * exactly what `subscribe` does for every item of its source stream. The schema's root resolvers
 * (`resolve: event => event`) and the Job field resolvers therefore shape the payload, so WebSocket
 * clients on AWS receive the same JobEvent as clients of the local server.
 */

import {
  execute,
  GraphQLError,
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { JsonObject } from '../core';
import type { JobWatchEvent } from '../core/use-cases';
import type { GraphQLContext } from './context';
import { createGraphQLServer } from './graphql-server';
import { buildSchema } from './schema';
import { WRONG_TRANSPORT, type Validation } from './validation';

/** The root fields the WebSocket API serves. */
export type SubscriptionField = 'jobProgress' | 'myJobs';

/** What a client asked to subscribe to, once checked. */
export interface SubscriptionRequest {
  query: string;
  document: DocumentNode;
  variables?: JsonObject;
  operationName?: string;
  field: SubscriptionField;
  /** The job, for `jobProgress`. */
  jobId?: string;
}

/** The schema and the shared rules every document is checked with. */
export interface DocumentRules {
  schema: GraphQLSchema;
  validation: Validation;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/**
 * The rules of the WebSocket API: the schema, with the same hardened server configuration (armor rules,
 * token limit, error boundary) that HTTP requests get. Building the schema is slow; callers keep one.
 */
export function createDocumentRules(): DocumentRules {
  const schema = buildSchema();
  const server = createGraphQLServer({ schema });
  return { schema, validation: server.validation, formatError: server.formatError };
}

/** The outcome of checking a subscribe payload: the request, or errors for an `error` message. */
export type CheckedSubscription =
  { ok: true; request: SubscriptionRequest } | { ok: false; errors: GraphQLFormattedError[] };

const format = (rules: DocumentRules, error: GraphQLError): GraphQLFormattedError =>
  rules.formatError(error.toJSON(), error);

const fail = (rules: DocumentRules, message: string): CheckedSubscription => ({
  ok: false,
  errors: [format(rules, new GraphQLError(message))],
});

/**
 * Parses and validates a subscribe payload with the rules every transport shares, and checks it is a
 * single subscription to `jobProgress` or `myJobs`.
 */
export function checkSubscription(
  rules: DocumentRules,
  payload: {
    query: string;
    variables?: Record<string, unknown> | null;
    operationName?: string | null;
  },
): CheckedSubscription {
  const checked = rules.validation.check(rules.schema, payload.query, 'websocket');
  if (checked.errors !== undefined) return { ok: false, errors: checked.errors.map((error) => format(rules, error)) };
  const { document } = checked;

  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation =
    payload.operationName === undefined || payload.operationName === null
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((candidate) => candidate.name?.value === payload.operationName);
  if (operation === undefined)
    return fail(rules, 'Send exactly one operation, or name the one to run in operationName.');
  // The shared rules have refused other operation types already; kept so this function stands alone.
  if (operation.operation !== 'subscription') return fail(rules, WRONG_TRANSPORT.websocket);
  const fields = operation.selectionSet.selections.filter((node): node is FieldNode => node.kind === Kind.FIELD);
  const [root] = fields;
  if (root === undefined || fields.length !== 1 || operation.selectionSet.selections.length !== 1) {
    return fail(rules, 'A subscription selects exactly one root field: jobProgress or myJobs.');
  }
  const field = root.name.value as SubscriptionField;
  const variables = (payload.variables ?? undefined) as JsonObject | undefined;
  let jobId: string | undefined;
  if (field === 'jobProgress') {
    const argument = root.arguments?.find((arg) => arg.name.value === 'id');
    const value = argument?.value;
    if (value?.kind === Kind.STRING) jobId = value.value;
    else if (value?.kind === Kind.VARIABLE) {
      const bound = variables?.[value.name.value];
      if (typeof bound === 'string') jobId = bound;
    }
    if (jobId === undefined) return fail(rules, 'jobProgress needs an id: a string literal or a String/ID variable.');
  }
  return {
    ok: true,
    request: {
      query: payload.query,
      document,
      field,
      ...(variables !== undefined && { variables }),
      ...(operation.name !== undefined && { operationName: operation.name.value }),
      ...(jobId !== undefined && { jobId }),
    },
  };
}

/** The `next` payload for one event: the document executed with the event as its root value. */
export async function renderEvent(
  rules: DocumentRules,
  request: Pick<SubscriptionRequest, 'query' | 'variables' | 'operationName'> & { document?: DocumentNode },
  event: JobWatchEvent,
  context: GraphQLContext,
): Promise<JsonObject> {
  const document = request.document ?? parse(request.query, { maxTokens: rules.validation.maxTokens });
  const result = await execute({
    schema: rules.schema,
    document,
    rootValue: event,
    contextValue: context,
    ...(request.variables !== undefined && { variableValues: request.variables }),
    ...(request.operationName !== undefined && { operationName: request.operationName }),
  });
  return {
    ...(result.data !== undefined && { data: result.data as JsonObject }),
    ...(result.errors !== undefined && {
      errors: result.errors.map((error) => format(rules, error)) as unknown as JsonObject[],
    }),
  };
}
