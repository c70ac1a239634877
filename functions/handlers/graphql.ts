/**
 * The GraphQL function: Apollo Server from functions/graphql on API Gateway HTTP API (payload v2).
 *
 * The owner comes from the authorizer's context (simple responses put it in
 * `requestContext.authorizer.lambda`); when the function is invoked without the authorizer in front
 * (a direct invoke, a test stage) the bearer key is verified here instead. Adapters, schema and
 * server are built once per container, on the first request. Each request is charged to the owner's
 * budget in the rate-limits table (shared by every instance) before it runs.
 */

import { HeaderMap } from '@apollo/server';
import { handlers, startServerAndCreateLambdaHandler } from '@as-integrations/aws-lambda';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { GraphQLError } from 'graphql';
import { ErrorCode, isDomainError, type ApiKeyStore } from '../core';
import { authenticate, bearerKey, buildSchema, createGraphQLServer, jobCharger, type GraphQLContext } from '../graphql';
import type { OwnerContext } from './authorizer';
import { buildApiKeyStore, buildRequestLimiter, buildUseCaseDeps } from '../wiring/aws';
import { once, readHandlerEnv } from './support/handler-env';

type GraphQLEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Partial<OwnerContext> | undefined>;

/**
 * Apollo turns an error thrown while building the context into a 500 unless it is a GraphQLError with
 * an HTTP status, so a DomainError from authentication or the request budget rides inside one, with
 * the local server's status and headers (401; 429 and `retry-after`).
 */
async function beforeExecution<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!isDomainError(error)) throw error;
    const limited = error.code === ErrorCode.RATE_LIMITED;
    const headers = new HeaderMap();
    if (limited) headers.set('retry-after', String(error.details?.retryAfterSeconds ?? 60));
    throw new GraphQLError(error.message, {
      originalError: error,
      extensions: { http: { status: limited ? 429 : 401, headers } },
    });
  }
}

/** Verifies the bearer key (for an invoke without the authorizer in front). */
function ownerFromBearer(keys: ApiKeyStore, header: string | undefined): Promise<string> {
  return beforeExecution(() => authenticate(keys, bearerKey(header)));
}

const runtime = once(() => {
  const settings = readHandlerEnv(
    ['jobsTable', 'apiKeysTable', 'catalogTable'],
    [
      'jobsByOwnerIndex',
      'uploadsBucket',
      'resultsBucket',
      'datasetsBucket',
      'trainingJobPrefix',
      'rateLimitsTable',
      'requestsPerMinute',
      'requestsPerSecond',
    ],
  );
  const server = createGraphQLServer({ schema: buildSchema() });
  const deps = buildUseCaseDeps(settings);
  const keys = buildApiKeyStore(settings);
  const limiter = buildRequestLimiter(settings);
  const lambda = startServerAndCreateLambdaHandler(
    server.apollo,
    handlers.createAPIGatewayProxyEventV2RequestHandler<GraphQLEvent>(),
    {
      context: async ({ event }): Promise<GraphQLContext> => {
        const fromAuthorizer = event.requestContext.authorizer?.lambda?.owner;
        const owner =
          typeof fromAuthorizer === 'string' && fromAuthorizer.length > 0
            ? fromAuthorizer
            : await ownerFromBearer(keys, event.headers.authorization);
        if (limiter === undefined) return { owner, deps };
        // Every request takes one token, as on the local server; job-creating fields past the first take more.
        await beforeExecution(() => limiter.take(owner));
        return { owner, deps, chargeJob: jobCharger(limiter, owner) };
      },
    },
  );
  return lambda;
});

/**
 * The Lambda entry point: async, with (event, context) only. The nodejs24.x runtime runs promise-returning
 * handlers and refuses callback-style ones (three parameters), so the integration's handler, which is
 * async itself, is called here with a callback that is never used.
 */
export async function handler(event: GraphQLEvent, context: Context): Promise<APIGatewayProxyResultV2> {
  return (await runtime()(event, context, () => undefined)) as APIGatewayProxyResultV2;
}
