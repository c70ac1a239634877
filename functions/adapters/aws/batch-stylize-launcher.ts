/**
 * `BatchStylizeLauncher`: starts the GPU stylize container for one job on AWS Batch.
 *
 * The dispatcher that drains the stylize queue calls this once per job. The container reads its job
 * from the job store, so the only thing passed is the job id, as the `jobId` parameter that the job
 * definition's command substitutes (`Ref::jobId`). This is the only module that imports the Batch SDK.
 */

import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { DomainError, ErrorCode } from '../../core';
import type { AwsClientConfig } from './aws-client-config';
import { awsErrorName, translateAwsError } from './aws-errors';

/** Builds a Batch client for AWS (no options) or for another endpoint. */
export function createBatchClient(config: AwsClientConfig = {}): BatchClient {
  return new BatchClient({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
  });
}

/** Options for `BatchStylizeLauncher`. */
export interface BatchStylizeLauncherOptions {
  client: BatchClient;
  /** Job queue name or ARN (env PEERSTYLE_BATCH_JOB_QUEUE). */
  jobQueue: string;
  /** Job definition name or ARN (env PEERSTYLE_BATCH_JOB_DEFINITION). */
  jobDefinition: string;
}

/** What Batch answered. */
export interface BatchSubmission {
  batchJobId: string;
  batchJobName: string;
}

/** Batch job names allow 1..128 letters, digits, hyphens and underscores. */
function batchJobName(jobId: string): string {
  return `stylize-${jobId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);
}

/** Submits stylize jobs to AWS Batch. */
export class BatchStylizeLauncher {
  constructor(private readonly options: BatchStylizeLauncherOptions) {}

  /** Submits the container for `jobId`; BAD_REQUEST for an empty id, UNAVAILABLE when Batch throttles. */
  async launch(jobId: string): Promise<BatchSubmission> {
    if (jobId.length === 0) {
      throw new DomainError(ErrorCode.BAD_REQUEST, 'A stylize launch needs a job id.', { field: 'jobId' });
    }
    const name = batchJobName(jobId);
    try {
      const response = await this.options.client.send(
        new SubmitJobCommand({
          jobName: name,
          jobQueue: this.options.jobQueue,
          jobDefinition: this.options.jobDefinition,
          parameters: { jobId },
          tags: { 'peerstyle:job-id': jobId },
        }),
      );
      if (response.jobId === undefined) {
        throw new DomainError(ErrorCode.INTERNAL, `Batch accepted ${name} but returned no job id.`);
      }
      return { batchJobId: response.jobId, batchJobName: response.jobName ?? name };
    } catch (error) {
      // A client error from Batch is a configuration problem (wrong queue, missing definition).
      if (awsErrorName(error) === 'ClientException') {
        throw new DomainError(ErrorCode.INTERNAL, `Batch refused ${name}: ${(error as Error).message}`, undefined, {
          cause: error,
        });
      }
      throw translateAwsError(error, `Submitting ${name} to Batch`);
    }
  }
}
