/**
 * GraphQL subscriptions over WebSocket (the graphql-ws protocol) on the server's `/graphql` path.
 *
 * The connection is authenticated once, from the `connection_init` payload; a missing or wrong key
 * closes the socket with 4403. Each subscribe message is rate limited like an HTTP request, validated
 * with the same query limits as HTTP, and every error goes through the same boundary, so a client sees
 * the same codes on either transport.
 */

import type { Server } from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { isDomainError, type ApiKeyStore } from '../../core';
import type { UseCaseDeps } from '../../core/use-cases';
import { authenticate, connectionKey, type GraphQLContext, type GraphQLServer, type RateLimiter } from '../../graphql';

/** What the WebSocket transport needs. */
export interface SubscriptionDeps {
  schema: GraphQLSchema;
  graphql: GraphQLServer;
  apiKeys: ApiKeyStore;
  rateLimiter: RateLimiter;
  deps: UseCaseDeps;
  /** Largest WebSocket message accepted, in bytes. */
  maxMessageBytes: number;
}

/** A running WebSocket endpoint. */
export interface SubscriptionServer {
  close(): Promise<void>;
}

/** Attaches the graphql-ws endpoint at `path` to `server`. */
export function attachSubscriptions(server: Server, path: string, options: SubscriptionDeps): SubscriptionServer {
  // ws accepts 100 MiB messages by default; a GraphQL subscribe message needs a tiny fraction of that.
  const wss = new WebSocketServer({ server, path, maxPayload: options.maxMessageBytes });
  // The owner is known from connection_init on; graphql-ws hands every callback the same ctx object.
  const owners = new WeakMap<object, string>();
  const rules = [...specifiedRules, ...options.graphql.validationRules];
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => options.graphql.formatError(error.toJSON(), error));
  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        try {
          owners.set(ctx, await authenticate(options.apiKeys, connectionKey(ctx.connectionParams)));
          return true;
        } catch (error) {
          if (isDomainError(error)) return false;
          throw error;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const owner = owners.get(ctx);
        if (owner === undefined)
          return [new GraphQLError('Not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
        try {
          options.rateLimiter.take(owner);
        } catch (error) {
          if (isDomainError(error)) return [new GraphQLError(error.message, { originalError: error })];
          throw error;
        }
        // Parsed here rather than by graphql-ws so the token limit applies, then validated with the
        // same rules as HTTP; returning ExecutionArgs tells graphql-ws both steps are done.
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: options.graphql.maxTokens });
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(options.schema, document, rules);
        if (errors.length > 0) return errors;
        return {
          schema: options.schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: { owner, deps: options.deps } satisfies GraphQLContext,
        };
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors === undefined ? undefined : { ...result, errors: format(result.errors) },
    },
    wss,
  );
  return {
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
