/**
 * The GraphQL function: Apollo Server from functions/graphql on API Gateway HTTP API (payload v2).
 *
 * The owner comes from the authorizer's context (simple responses put it in
 * `requestContext.authorizer.lambda`); when the function is invoked without the authorizer in front
 * (a direct invoke, a test stage) the bearer key is verified here instead. Adapters, schema and
 * server are built once per container, on the first request.
 */

import { handlers, startServerAndCreateLambdaHandler } from '@as-integrations/aws-lambda';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { GraphQLError } from 'graphql';
import { isDomainError, type ApiKeyStore } from '../core';
import { authenticate, bearerKey, buildSchema, createGraphQLServer, type GraphQLContext } from '../graphql';
import type { OwnerContext } from './authorizer';
import { buildApiKeyStore, buildUseCaseDeps } from './support/aws-adapters';
import { once, readHandlerEnv } from './support/handler-env';

type GraphQLEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Partial<OwnerContext> | undefined>;

/**
 * Verifies the bearer key. Apollo turns an error thrown while building the context into a 500 unless
 * it is a GraphQLError with an HTTP status, so the UNAUTHENTICATED DomainError rides inside one.
 */
async function ownerFromBearer(keys: ApiKeyStore, header: string | undefined): Promise<string> {
  try {
    return await authenticate(keys, bearerKey(header));
  } catch (error) {
    if (!isDomainError(error)) throw error;
    throw new GraphQLError(error.message, { originalError: error, extensions: { http: { status: 401 } } });
  }
}

const runtime = once(() => {
  const settings = readHandlerEnv(
    ['jobsTable', 'apiKeysTable', 'catalogTable', 'stylizeQueueUrl', 'trainingLauncherFunction'],
    ['jobsByOwnerIndex', 'uploadsBucket', 'resultsBucket', 'datasetsBucket', 'trainingJobPrefix'],
  );
  const server = createGraphQLServer({ schema: buildSchema() });
  const deps = buildUseCaseDeps(settings);
  const keys = buildApiKeyStore(settings);
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
        return { owner, deps };
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
