/**
 * `LambdaTrainingStarter`: the job starter for TRAIN jobs on AWS. It invokes the training launcher
 * function asynchronously with `{"jobId": "<id>"}`, the payload that function reads
 * (functions/handlers/training-launcher.ts), and that function stages the dataset and creates the
 * SageMaker training run.
 *
 * The invocation is asynchronous (InvocationType "Event") because staging an uploaded dataset can
 * outlast the API's 29-second limit, and because Lambda then retries a launcher that fails on a
 * service error twice, with the job still QUEUED. Lambda accepts the event once it is queued (202);
 * a refusal (no such function, no permission, throttling) is thrown to the API caller as a DomainError.
 * This is also the only module that builds a Lambda client.
 */

import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DomainError, ErrorCode, type Job, type JobStarter } from '../../core';
import type { AwsClientConfig } from './aws-client-config';
import { translateAwsError } from './aws-errors';

/** Builds a Lambda client for AWS (no options) or for another endpoint. */
export function createLambdaClient(config: AwsClientConfig = {}): LambdaClient {
  return new LambdaClient({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
    ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
  });
}

/** Options for `LambdaTrainingStarter`. */
export interface LambdaTrainingStarterOptions {
  /** A client from `createLambdaClient`. */
  client: LambdaClient;
  /** The training launcher function's name or ARN (env PEERSTYLE_TRAINING_LAUNCHER_FUNCTION). */
  functionName: string;
}

/** Starts TRAIN jobs by invoking the training launcher function. */
export class LambdaTrainingStarter implements JobStarter {
  private readonly client: LambdaClient;
  private readonly functionName: string;

  constructor(options: LambdaTrainingStarterOptions) {
    this.client = options.client;
    this.functionName = options.functionName;
  }

  async start(job: Job): Promise<void> {
    if (job.kind !== 'TRAIN') {
      // A wiring mistake: the launcher would mark any other job FAILED.
      throw new DomainError(
        ErrorCode.INTERNAL,
        `The training launcher starts TRAIN jobs only; job ${job.id} is ${job.kind}.`,
      );
    }
    let response;
    try {
      response = await this.client.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify({ jobId: job.id })),
        }),
      );
    } catch (error) {
      throw translateAwsError(error, `Starting the training of job ${job.id}`);
    }
    if (response.StatusCode !== 202) {
      throw new DomainError(
        ErrorCode.UNAVAILABLE,
        `The training launcher did not accept job ${job.id} (status ${String(response.StatusCode)}).`,
      );
    }
  }
}
