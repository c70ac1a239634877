/**
 * Construction of the S3 client: the only place the adapters build one.
 *
 * Two settings matter beyond region and endpoint. Path-style addressing (`http://host/bucket/key`) is
 * what S3-protocol servers on loopback understand, since `bucket.127.0.0.1` does not resolve. And
 * checksums are computed only `WHEN_REQUIRED`: with the SDK's default, a streamed body is sent with
 * aws-chunked framing and trailing checksums, which s3rver stores verbatim (the object grows by the
 * framing bytes), while S3 itself accepts both forms.
 */

import { S3Client } from '@aws-sdk/client-s3';
import type { AwsClientConfig } from './aws-client-config';

/** Options for `createS3Client`. */
export interface S3ClientConfig extends AwsClientConfig {
  /** Address buckets in the path rather than the host name. @default true when `endpoint` is set */
  forcePathStyle?: boolean;
}

/** Builds an S3 client for AWS (no options) or for an S3-protocol server (`endpoint`). */
export function createS3Client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
    ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
    forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
