/**
 * Construction of the SQS client: the only place the adapters build one.
 */

import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClientConfig } from './aws-client-config';

/** Builds an SQS client for AWS (no options) or for an SQS-protocol server (`endpoint`). */
export function createSqsClient(config: AwsClientConfig = {}): SQSClient {
  return new SQSClient({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
    ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
  });
}
