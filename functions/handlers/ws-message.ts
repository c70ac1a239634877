/**
 * The WebSocket `$default` route: every graphql-ws message a client sends after connecting. The
 * protocol lives in `support/graphql-ws-messages`; this entry point only unpacks the event.
 */

import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { handleGraphQLWsMessage } from './support/graphql-ws-messages';

/** The Lambda entry point. */
export async function handler(event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> {
  const body =
    event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const outcome = await handleGraphQLWsMessage(event.requestContext.connectionId, body);
  if (outcome.closed) {
    // API Gateway cannot carry the close code to the client; the log keeps it.
    console.warn(`Closed ${event.requestContext.connectionId}: ${outcome.code} ${outcome.reason}`);
  }
  return { statusCode: 200 };
}
