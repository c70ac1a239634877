/**
 * GraphQL subscriptions over WebSocket (the graphql-ws protocol) on the server's `/graphql` path.
 *
 * The connection is authenticated from the `connection_init` payload; a missing or wrong key closes
 * the socket with 4403. The key stays with the connection so that revoking it takes effect while the
 * socket is open: every subscribe message verifies it again (a revoked key is answered with
 * UNAUTHENTICATED, as over HTTP, and the socket is closed with 4403), and a timer re-verifies the keys
 * of idle connections (see `key-recheck`). Each subscribe message is rate limited like an HTTP request,
 * validated with the rules every transport shares (`graphql/validation`: limits, introspection, and
 * subscriptions only, as on AWS), and every error goes through the same boundary, so a client sees the
 * same codes on either transport.
 */

import type { Server } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { isDomainError, type ApiKeyStore } from '../../core';
import type { UseCaseDeps } from '../../core/use-cases';
import {
  authenticate,
  connectionKey,
  jobCharger,
  type ErrorLogger,
  type GraphQLContext,
  type GraphQLServer,
  type RateLimiter,
} from '../../graphql';
import { closeForRevokedKey, startKeyRecheck } from './key-recheck';

/** What the WebSocket transport needs. */
export interface SubscriptionDeps {
  schema: GraphQLSchema;
  graphql: GraphQLServer;
  apiKeys: ApiKeyStore;
  rateLimiter: RateLimiter;
  deps: UseCaseDeps;
  /** Largest WebSocket message accepted, in bytes. */
  maxMessageBytes: number;
  /** How often the keys of open connections are re-verified, in milliseconds. */
  keyRecheckMs: number;
  /** Where a failed re-verification is reported. */
  log: ErrorLogger;
}

/** Who a connection authenticated as, from its accepted `connection_init`. */
interface ConnectionSession {
  /** The key as presented, kept in memory only, to verify it again later. */
  key: string;
  owner: string;
}

/** A running WebSocket endpoint. */
export interface SubscriptionServer {
  close(): Promise<void>;
}

/** Attaches the graphql-ws endpoint at `path` to `server`. */
export function attachSubscriptions(server: Server, path: string, options: SubscriptionDeps): SubscriptionServer {
  // ws accepts 100 MiB messages by default; a GraphQL subscribe message needs a tiny fraction of that.
  const wss = new WebSocketServer({ server, path, maxPayload: options.maxMessageBytes });
  // Known from connection_init on; keyed by socket so the re-check timer can walk `wss.clients`.
  const sessions = new WeakMap<WebSocket, ConnectionSession>();
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => options.graphql.formatError(error.toJSON(), error));
  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        try {
          const key = connectionKey(ctx.connectionParams);
          const owner = await authenticate(options.apiKeys, key);
          // authenticate refuses a missing key, so `key` is a string here.
          sessions.set(ctx.extra.socket, { key: key as string, owner });
          return true;
        } catch (error) {
          if (isDomainError(error)) return false;
          throw error;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const socket = ctx.extra.socket;
        const session = sessions.get(socket);
        if (session === undefined)
          return [new GraphQLError('Not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
        let owner: string;
        try {
          owner = await authenticate(options.apiKeys, session.key);
        } catch (error) {
          if (!isDomainError(error)) throw error;
          // graphql-ws queues the error message before this macrotask ends; closing on the next turn
          // puts the close frame after it, so the client learns why before the socket goes.
          setImmediate(() => closeForRevokedKey(socket));
          return [new GraphQLError(error.message, { originalError: error })];
        }
        try {
          options.rateLimiter.take(owner);
        } catch (error) {
          if (isDomainError(error)) return [new GraphQLError(error.message, { originalError: error })];
          throw error;
        }
        // Parsed and validated here rather than by graphql-ws, with the rules every transport shares
        // (limits, introspection, subscriptions only); returning ExecutionArgs tells graphql-ws both
        // steps are done.
        const checked = options.graphql.validation.check(options.schema, payload.query, 'websocket');
        if (checked.errors !== undefined) return [...checked.errors];
        return {
          schema: options.schema,
          document: checked.document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: {
            owner,
            deps: options.deps,
            chargeJob: jobCharger(options.rateLimiter, owner),
          } satisfies GraphQLContext,
        };
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors === undefined ? undefined : { ...result, errors: format(result.errors) },
    },
    wss,
  );
  const recheck = startKeyRecheck({
    sockets: () => wss.clients,
    keyOf: (socket) => sessions.get(socket)?.key,
    apiKeys: options.apiKeys,
    intervalMs: options.keyRecheckMs,
    log: options.log,
  });
  return {
    close: async () => {
      recheck.stop();
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
