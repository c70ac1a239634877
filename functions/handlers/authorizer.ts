/**
 * HTTP API Lambda authorizer (simple response format): the bearer key in `Authorization` is hashed
 * and looked up in the keys table; a working key authorises the request and hands its owner to the
 * GraphQL function in the authorizer context. A missing, malformed, unknown or revoked key is simply
 * not authorised (API Gateway answers 403), and a storage failure propagates so that API Gateway
 * answers 500 instead of caching a wrong "no".
 */

import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { bearerKey } from '../graphql/auth';
import { buildApiKeyStore } from '../wiring/aws';
import { once, readHandlerEnv } from './support/handler-env';

/** What the GraphQL function finds in `requestContext.authorizer.lambda`. */
export interface OwnerContext {
  owner: string;
}

const keys = once(() => buildApiKeyStore(readHandlerEnv(['apiKeysTable'])));

/** The authorizer entry point. */
export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<OwnerContext | Record<string, never>>> {
  // API Gateway lower-cases header names in v2 events; identitySource carries the same value.
  const key = bearerKey(event.headers?.authorization ?? event.identitySource?.[0]);
  const owner = key === null ? null : await keys().verify(key);
  return owner === null ? { isAuthorized: false, context: {} } : { isAuthorized: true, context: { owner } };
}
