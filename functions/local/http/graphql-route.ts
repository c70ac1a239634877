/**
 * `POST|GET /graphql`: translates a node:http request into Apollo's transport-agnostic
 * `HTTPGraphQLRequest` and writes its answer back, as Apollo's own integrations do.
 *
 * Authentication and rate limiting happen first, so an anonymous or throttled request never reaches
 * GraphQL parsing; they answer with a GraphQL-shaped error body and 401 or 429.
 */

import { HeaderMap } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode, isDomainError } from '../../core';
import type { UseCaseDeps } from '../../core/use-cases';
import { authenticate, bearerKey, jobCharger, type GraphQLServer, type RateLimiter } from '../../graphql';
import type { ApiKeyStore } from '../../core';
import { HTTP_STATUS, readBody, sendJson } from './http-io';

/** What the GraphQL route needs. */
export interface GraphQLRouteDeps {
  graphql: GraphQLServer;
  apiKeys: ApiKeyStore;
  rateLimiter: RateLimiter;
  deps: UseCaseDeps;
  maxBodyBytes: number;
}

function headerMap(request: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (!/^application\/(graphql-response\+)?json\b/i.test(contentType ?? '')) return body.toString('utf8');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new DomainError(ErrorCode.BAD_REQUEST, 'The request body is not valid JSON.');
  }
}

/** Answers one GraphQL HTTP request. */
export async function handleGraphQL(
  request: IncomingMessage,
  response: ServerResponse,
  route: GraphQLRouteDeps,
): Promise<void> {
  let owner: string;
  let body: unknown;
  try {
    owner = await authenticate(route.apiKeys, bearerKey(request.headers.authorization));
    route.rateLimiter.take(owner);
    body =
      request.method === 'POST'
        ? parseJsonBody(await readBody(request, route.maxBodyBytes), request.headers['content-type'])
        : undefined;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    const headers =
      error.code === ErrorCode.RATE_LIMITED ? { 'retry-after': String(error.details?.retryAfterSeconds ?? 60) } : {};
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    if (error.code === ErrorCode.UNAUTHENTICATED) response.setHeader('www-authenticate', 'Bearer');
    sendJson(response, HTTP_STATUS[error.code], {
      errors: [{ message: error.message, extensions: { code: error.code } }],
    });
    return;
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  const result = await route.graphql.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method ?? 'GET', headers: headerMap(request), search: url.search, body },
    context: async () => ({ owner, deps: route.deps, chargeJob: jobCharger(route.rateLimiter, owner) }),
  });
  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}
