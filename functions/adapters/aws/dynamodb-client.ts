/**
 * Construction of the DynamoDB clients: the only place the adapters build one.
 *
 * The stores talk through the document client so that items are plain objects; `removeUndefinedValues`
 * lets a job with optional fields be written without first deleting its undefined keys.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientConfig } from './aws-client-config';

/** Builds the low-level client, for table administration in tests and tools. */
export function createDynamoDbClient(config: AwsClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
    ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
  });
}

/** Builds the document client the stores use, over a new or a given low-level client. */
export function createDynamoDbDocumentClient(config: AwsClientConfig | DynamoDBClient = {}): DynamoDBDocumentClient {
  const client = config instanceof DynamoDBClient ? config : createDynamoDbClient(config);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
