/**
 * Closing a WebSocket from the server side through the API Gateway management API.
 *
 * graphql-ws closes a socket with a code (4400 bad request, 4401 unauthorised, ...), but API Gateway
 * gives a Lambda no way to send a close frame with a code: `DeleteConnection` is the only close it
 * offers, and the client then sees an abnormal closure and reconnects. The intended code is returned
 * so the handler can log it. This belongs beside `WebSocketPublisher` (the module that owns the
 * management SDK) and is kept to this one call.
 */

import { DeleteConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { awsErrorName, translateAwsError } from '../../adapters/aws';

/** Closes `connectionId`; a connection already gone counts as closed. */
export async function deleteConnection(client: ApiGatewayManagementApiClient, connectionId: string): Promise<void> {
  try {
    await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
  } catch (error) {
    if (awsErrorName(error) === 'GoneException') return;
    throw translateAwsError(error, `Closing connection ${connectionId}`);
  }
}
