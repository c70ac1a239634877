/**
 * `createApiServer`: the local API on one port: GraphQL over HTTP and WebSocket at `/graphql`,
 * presigned-POST uploads at `/uploads`, signed downloads under `/downloads/`, and `/health`.
 *
 * It is a plain node:http server with no framework: Apollo is driven through its transport-agnostic
 * entry point and graphql-ws through its `ws` binding. It only creates and enqueues jobs; workers,
 * started by the composition root, execute them.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  systemClock,
  type ApiKeyStore,
  type Clock,
  type JobEvents,
  type JobQueue,
  type JobStore,
  type ModelRegistry,
  type StyleStore,
  type TrainingRules,
} from '../../core';
import type { UseCaseDeps, UseCaseLimits } from '../../core/use-cases';
import {
  buildSchema,
  consoleErrorLogger,
  createGraphQLServer,
  RateLimiter,
  type ErrorLogger,
  type QueryLimits,
} from '../../graphql';
import { handleDownload } from './download-route';
import { handleGraphQL } from './graphql-route';
import { sendError, sendJson } from './http-io';
import { DEFAULT_KEY_RECHECK_MS } from './key-recheck';
import { DOWNLOADS_PATH, UPLOADS_PATH, type LocalBlobStore } from './local-blob-store';
import { attachSubscriptions, type SubscriptionServer } from './subscriptions';
import { handleUpload } from './upload-route';

/** GraphQL endpoint path, for HTTP and WebSocket alike. */
export const GRAPHQL_PATH = '/graphql';

/** The ports the API uses (the blob store is passed separately, see `ApiServerOptions.blobs`). */
export interface ApiServerPorts {
  jobs: JobStore;
  queue: JobQueue;
  events: JobEvents;
  styles: StyleStore;
  models: ModelRegistry;
  apiKeys: ApiKeyStore;
  trainingRules: TrainingRules;
  /** @default systemClock */
  clock?: Clock;
}

/** Settings the composition root reads from configuration. */
export interface ApiServerConfig {
  limits: UseCaseLimits;
  /** GraphQL requests (HTTP requests and subscriptions) each owner may make per minute. */
  requestsPerMinute: number;
  /** Query depth, alias, cost and token limits. @default see `QueryLimits` */
  queryLimits?: QueryLimits;
  /** Allow schema introspection. @default false */
  introspection?: boolean;
  /** Largest GraphQL request body or WebSocket message, in bytes. @default 1 MiB */
  maxGraphQLBodyBytes?: number;
  /**
   * How often open WebSocket connections have their API key re-verified, so a revoked key loses its
   * idle connections too, in milliseconds. @default 30000
   */
  keyRecheckMs?: number;
  /** Where unexpected errors go. @default console.error */
  log?: ErrorLogger;
}

/** Options for `createApiServer`. */
export interface ApiServerOptions {
  ports: ApiServerPorts;
  /**
   * The blob store, or a factory called once the server is listening with its origin
   * ("http://127.0.0.1:4000"), for when the port is only known then (port 0). Its upload and download
   * URLs must point at this server: see `localBlobUrls`.
   */
  blobs: LocalBlobStore | ((origin: string) => LocalBlobStore);
  config: ApiServerConfig;
  /**
   * Extra routes (e.g. the playground's static page), tried after the API's own routes; resolves
   * true when it handled the request. @default none: unmatched requests get 404
   */
  routes?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
}

/** A created (not yet listening) API server. */
export interface ApiServer {
  /** Starts listening and returns the origin, e.g. "http://127.0.0.1:43121". */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting connections, ends subscriptions and open requests, and stops Apollo. */
  close(): Promise<void>;
}

/** Creates the local API server. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { ports, config } = options;
  const log = config.log ?? consoleErrorLogger;
  const schema = buildSchema();
  const graphql = createGraphQLServer({
    schema,
    log,
    ...(config.queryLimits !== undefined ? { limits: config.queryLimits } : {}),
    ...(config.introspection !== undefined ? { introspection: config.introspection } : {}),
  });
  const maxBodyBytes = config.maxGraphQLBodyBytes ?? 1024 * 1024;
  const rateLimiter = new RateLimiter({ perMinute: config.requestsPerMinute, clock: ports.clock ?? systemClock });
  let blobs: LocalBlobStore | undefined = typeof options.blobs === 'function' ? undefined : options.blobs;
  let deps: UseCaseDeps | undefined;
  let subscriptions: SubscriptionServer | undefined;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (blobs === undefined || deps === undefined) throw new Error('The API server is not listening yet.');
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === GRAPHQL_PATH && (request.method === 'POST' || request.method === 'GET')) {
      return handleGraphQL(request, response, { graphql, apiKeys: ports.apiKeys, rateLimiter, deps, maxBodyBytes });
    }
    if (path === UPLOADS_PATH && request.method === 'POST')
      return handleUpload(request, response, blobs, config.limits.maxUploadBytes);
    if (path.startsWith(`${DOWNLOADS_PATH}/`) && request.method === 'GET')
      return handleDownload(request, response, blobs);
    if (path === '/health' && request.method === 'GET') return sendJson(response, 200, { status: 'ok' });
    if (options.routes !== undefined && (await options.routes(request, response))) return;
    sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `No route ${request.method} ${path}.` } });
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => sendError(response, error, log));
  });
  // The stylize engine runs in this process, and one graph run holds the event loop for as long as it
  // computes (seconds for a 1024 px decode on one thread). With Node's 5 s default, a kept-alive socket
  // on which a client has just sent its next request is closed when the loop comes back, and the client
  // sees ECONNRESET; idle sockets are still closed, after a minute.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;

  return {
    async listen(port, host) {
      await graphql.apollo.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      if (typeof options.blobs === 'function') blobs = options.blobs(origin);
      deps = { ...ports, blobs: blobs as LocalBlobStore, clock: ports.clock ?? systemClock, limits: config.limits };
      subscriptions = attachSubscriptions(server, GRAPHQL_PATH, {
        schema,
        graphql,
        apiKeys: ports.apiKeys,
        rateLimiter,
        deps,
        maxMessageBytes: maxBodyBytes,
        keyRecheckMs: config.keyRecheckMs ?? DEFAULT_KEY_RECHECK_MS,
        log,
      });
      return origin;
    },
    async close() {
      await subscriptions?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await graphql.apollo.stop();
    },
  };
}
