/**
 * The settings every AWS SDK client in the adapters is built from.
 *
 * On AWS the clients need nothing (region and credentials come from the Lambda or container
 * environment); locally and in tests they point at S3-, DynamoDB- and SQS-protocol servers on loopback,
 * which need an endpoint and static credentials. Each service's client module turns this shape into its
 * client, so this file stays free of SDK imports.
 */

/** Static credentials, for protocol servers that only check the access key id. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where and as whom an AWS client connects. */
export interface AwsClientConfig {
  /** AWS region. @default the SDK's own lookup (AWS_REGION) */
  region?: string;
  /** Service endpoint, e.g. "http://127.0.0.1:4569" for a local server. @default the AWS endpoint */
  endpoint?: string;
  /** @default the SDK's default credential chain */
  credentials?: StaticCredentials;
  /** Attempts per call, including the first. @default 3 (the SDK default) */
  maxAttempts?: number;
}
