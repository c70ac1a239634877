/**
 * The WebSocket `$connect` route: accepts every connection and records it, unauthorised, with a TTL.
 * Authentication happens in `connection_init` (browsers cannot send headers on a WebSocket, and a key
 * in the URL would reach access logs).
 */

import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { wsConnectionStore } from '../wiring/aws';

/** The Lambda entry point. */
export async function handler(event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> {
  await wsConnectionStore().addConnection(event.requestContext.connectionId);
  // A client that offered graphql-ws's subprotocol refuses the socket unless it is echoed back; one
  // that offered none refuses it if it is. ($connect events carry the handshake headers.)
  const headers = (event as { headers?: Record<string, string | undefined> }).headers ?? {};
  const offered = Object.entries(headers).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
  const accepted = offered
    ?.split(',')
    .map((value) => value.trim())
    .includes(GRAPHQL_TRANSPORT_WS_PROTOCOL);
  return accepted === true
    ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': GRAPHQL_TRANSPORT_WS_PROTOCOL } }
    : { statusCode: 200 };
}
