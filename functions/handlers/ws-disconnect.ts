/**
 * The WebSocket `$disconnect` route: forgets the connection and its subscriptions. Not guaranteed to
 * run (API Gateway delivers it on a best-effort basis), which is why the rows also carry a TTL.
 */

import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { wsConnectionStore } from '../wiring/aws';

/** The Lambda entry point. */
export async function handler(event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> {
  await wsConnectionStore().remove(event.requestContext.connectionId);
  return { statusCode: 200 };
}
