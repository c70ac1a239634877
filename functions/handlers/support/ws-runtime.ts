/**
 * What the WebSocket handlers share, built once per container: the schema and its limits (the same
 * hardened server configuration as HTTP), the connection store, the poster to sockets and the
 * context subscription documents run in.
 */

import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoConnectionStore, WebSocketPublisher } from '../../adapters/aws';
import { systemClock } from '../../core';
import type { ApiKeyStore, JobStore } from '../../core';
import { DEFAULT_LIMITS, type UseCaseDeps } from '../../core/use-cases';
import { buildSchema, createGraphQLServer, type GraphQLContext } from '../../graphql';
import {
  buildApiKeyStore,
  buildBlobStore,
  buildConnectionStore,
  buildJobStore,
  buildWebSocketPublisher,
} from './aws-adapters';
import { once, readHandlerEnv } from './handler-env';
import type { KeyHashVerifier } from './subscriber-access';
import type { DocumentRules } from './subscription-document';
import { StreamJobEvents } from './stream-job-events';

/** The document rules: schema, armor rules, token limit and error boundary. */
export const documentRules = once((): DocumentRules => {
  const schema = buildSchema();
  const server = createGraphQLServer({ schema });
  return {
    schema,
    validation: server.validation,
    formatError: server.formatError,
  };
});

/** The connections and subscriptions tables ($connect, $disconnect and the rest). */
export const connectionStore = once((): DynamoConnectionStore =>
  buildConnectionStore(readHandlerEnv(['connectionsTable', 'subscriptionsTable'], ['subscriptionsByTopicIndex'])),
);

/** The management API client and the poster on it. */
export const sockets = once((): { client: ApiGatewayManagementApiClient; publisher: WebSocketPublisher } =>
  buildWebSocketPublisher(readHandlerEnv(['webSocketCallbackUrl']).webSocketCallbackUrl, connectionStore()),
);

/** The keys table: connection_init verifies a key, subscribe and the publisher re-verify its hash. */
export const apiKeys = once((): ApiKeyStore & KeyHashVerifier => buildApiKeyStore(readHandlerEnv(['apiKeysTable'])));

/** The jobs table, for the ownership check and snapshot at subscribe time. */
export const jobStore = once((): JobStore => buildJobStore(readHandlerEnv(['jobsTable'], ['jobsByOwnerIndex'])));

const eventDeps = once((): UseCaseDeps => {
  const settings = readHandlerEnv([], ['resultsBucket']);
  // Rendering a JobEvent reaches only the Job field resolvers, which read blobs (for result download
  // URLs), clock and limits; the other ports are never touched by a subscription document, so they
  // are stand-ins that fail loudly if that ever changes.
  const unavailable = new Proxy({} as never, {
    get: () => {
      throw new Error('This port is not available while rendering subscription events.');
    },
  });
  return {
    blobs: buildBlobStore(settings),
    jobs: unavailable,
    queue: unavailable,
    events: new StreamJobEvents(),
    styles: unavailable,
    models: unavailable,
    clock: systemClock,
    limits: DEFAULT_LIMITS,
  };
});

/** The context a subscription document runs in for `owner`. */
export function eventContext(owner: string): GraphQLContext {
  return { owner, deps: eventDeps() };
}
