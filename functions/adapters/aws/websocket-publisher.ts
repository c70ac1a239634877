/**
 * `WebSocketPublisher`: pushes subscription messages to browsers through the API Gateway WebSocket
 * management API, and closes their sockets from the server side.
 *
 * A connection that closed without a clean disconnect (a laptop lid, a dropped network) is only
 * discovered when posting to it fails with GoneException; the publisher then forgets the connection,
 * so the next job update does not try it again. graphql-ws closes a socket with a code (4400 bad
 * request, 4401 unauthorised, ...), but API Gateway gives a Lambda no way to send a close frame with a
 * code: `DeleteConnection` is the only close it offers, and the client then sees an abnormal closure
 * and reconnects. This is the only module that imports the API Gateway management SDK.
 */

import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { JsonValue } from '../../core';
import type { AwsClientConfig } from './aws-client-config';
import { awsErrorName, translateAwsError } from './aws-errors';

/**
 * Builds a management API client for one WebSocket stage, from its callback URL
 * (env PEERSTYLE_WS_CALLBACK_URL, `https://<api>.execute-api.<region>.amazonaws.com/<stage>`).
 */
export function createWebSocketManagementClient(
  callbackUrl: string,
  config: Omit<AwsClientConfig, 'endpoint'> = {},
): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: callbackUrl,
    ...(config.region !== undefined && { region: config.region }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
  });
}

/** Where live connections are recorded; the publisher only ever removes one. */
export interface ConnectionRegistry {
  /** Forgets a connection and its subscriptions; forgetting an unknown one is not an error. */
  remove(connectionId: string): Promise<void>;
}

/** Options for `WebSocketPublisher`. */
export interface WebSocketPublisherOptions {
  client: ApiGatewayManagementApiClient;
  connections: ConnectionRegistry;
}

/** The outcome of one post: delivered, or the connection was gone and has been removed. */
export type PublishOutcome = 'sent' | 'gone';

/** Posts JSON messages to WebSocket connections. */
export class WebSocketPublisher {
  constructor(private readonly options: WebSocketPublisherOptions) {}

  /** Sends `message` as JSON text to one connection. */
  async publish(connectionId: string, message: JsonValue): Promise<PublishOutcome> {
    try {
      await this.options.client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: new TextEncoder().encode(JSON.stringify(message)),
        }),
      );
      return 'sent';
    } catch (error) {
      if (awsErrorName(error) === 'GoneException') {
        await this.options.connections.remove(connectionId);
        return 'gone';
      }
      throw translateAwsError(error, `Posting to connection ${connectionId}`);
    }
  }

  /** Closes `connectionId`; a connection already gone counts as closed. */
  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.options.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (awsErrorName(error) === 'GoneException') return;
      throw translateAwsError(error, `Closing connection ${connectionId}`);
    }
  }

  /** Sends `message` to every connection, each independently; returns the ids found gone. */
  async publishToAll(connectionIds: readonly string[], message: JsonValue): Promise<string[]> {
    const outcomes = await Promise.all(connectionIds.map((id) => this.publish(id, message)));
    return connectionIds.filter((_, index) => outcomes[index] === 'gone');
  }
}
