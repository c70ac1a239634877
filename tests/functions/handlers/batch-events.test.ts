/**
 * The Batch events function: EventBridge "Batch Job State Change" events fail stylize jobs in the real
 * jobs table (dynalite on loopback, reached through the environment the stack sets) when their Batch
 * job failed before the worker recorded an outcome. EventBridge and Batch have no local
 * implementation; the events are written here in the shape Batch emits and passed to the handler as
 * the Lambda target would pass them.
 */

import type { EventBridgeEvent } from 'aws-lambda';
import { createDynamoDbDocumentClient, DynamoJobStore } from '../../../functions/adapters/aws';
import { ErrorCode, type Job } from '../../../functions/core';
import {
  BATCH_JOB_STATE_CHANGE,
  batchFailure,
  handler,
  jobIdOf,
  reconcileBatchFailure,
  type BatchJobDetail,
} from '../../../functions/handlers/batch-events';
import { LOCAL_CREDENTIALS, startDynamo, type DynamoEmulator } from '../../support/emulators';

const QUEUE_ARN = 'arn:aws:batch:eu-west-1:123456789012:job-queue/JobQueue-abc';
const CAPACITY_REASON = 'Job cancelled: RUNNABLE for too long (INSUFFICIENT_INSTANCE_CAPACITY)';
const HOST_LOST = 'Host EC2 (instance i-0123456789abcdef0) terminated.';

let dynamo: DynamoEmulator;
let jobs: DynamoJobStore;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynamo();
  const table = await dynamo.newJobsTable();
  jobs = new DynamoJobStore({ client: createDynamoDbDocumentClient(dynamo.client), tableName: table });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    PEERSTYLE_JOBS_TABLE: table,
  });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterAll(async () => {
  process.env = savedEnv;
  jest.restoreAllMocks();
  await dynamo?.stop();
});

let counter = 0;

/** A Batch job attempt as DescribeJobs and the state change event report it. */
function attempt(reason: string, exitCode?: number): NonNullable<BatchJobDetail['attempts']>[number] {
  return {
    container: { ...(exitCode !== undefined && { exitCode }), reason },
    statusReason: reason,
  };
}

/** An event in the shape AWS Batch sends for a job the stylize launcher submitted. */
function stateChange(
  jobId: string,
  status: string,
  extra: Partial<BatchJobDetail> = {},
): EventBridgeEvent<typeof BATCH_JOB_STATE_CHANGE, BatchJobDetail> {
  counter += 1;
  const batchJobId = `0f1e2d3c-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return {
    version: '0',
    id: `evt-${counter}`,
    'detail-type': BATCH_JOB_STATE_CHANGE,
    source: 'aws.batch',
    account: '123456789012',
    time: '2026-11-27T12:00:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:batch:eu-west-1:123456789012:job/${batchJobId}`],
    detail: {
      jobName: `stylize-${jobId}`,
      jobId: batchJobId,
      jobQueue: QUEUE_ARN,
      status,
      attempts: [],
      createdAt: 1_796_000_000_000,
      retryStrategy: { attempts: 3 },
      dependsOn: [],
      jobDefinition: 'arn:aws:batch:eu-west-1:123456789012:job-definition/StylizeJobDefinition:1',
      parameters: { jobId },
      tags: { 'peerstyle:job-id': jobId },
      ...extra,
    } as BatchJobDetail,
  };
}

async function queuedJob(): Promise<Job> {
  const { job } = await jobs.create({ owner: 'user-1', kind: 'STYLIZE', input: { contentKey: 'uploads/a.png' } });
  return job;
}

async function runningJob(): Promise<Job> {
  const job = await queuedJob();
  return jobs.transition(job.id, 'QUEUED', 'RUNNING');
}

describe('batch events handler', () => {
  it('fails a QUEUED job whose Batch job was cancelled for capacity, with UNAVAILABLE and the reason', async () => {
    const job = await queuedJob();
    const result = await handler(stateChange(job.id, 'FAILED', { statusReason: CAPACITY_REASON }));

    expect(result.action).toBe('failed');
    const stored = await jobs.get(job.id);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.stage).toBe('failed');
    expect(stored?.finishedAt).not.toBeNull();
    expect(stored?.error?.code).toBe(ErrorCode.UNAVAILABLE);
    expect(stored?.error?.message).toContain(CAPACITY_REASON);
    expect(stored?.messages.at(-1)).toMatchObject({ level: 'ERROR', text: stored?.error?.message });
  });

  it('fails a RUNNING job whose hosts were lost on every attempt with RETRIES_EXHAUSTED', async () => {
    const job = await runningJob();
    const attempts = [attempt(HOST_LOST), attempt(HOST_LOST), attempt(HOST_LOST)];
    await handler(stateChange(job.id, 'FAILED', { statusReason: HOST_LOST, attempts }));

    const stored = await jobs.get(job.id);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.error?.code).toBe(ErrorCode.RETRIES_EXHAUSTED);
    expect(stored?.error?.message).toContain(HOST_LOST);
    expect(stored?.error?.message).toContain('all 3 attempts');
  });

  it('fails a RUNNING job whose container crashed with INTERNAL and the container reason', async () => {
    const job = await runningJob();
    const reason = 'OutOfMemoryError: Container killed due to memory usage';
    await handler(stateChange(job.id, 'FAILED', { statusReason: undefined, attempts: [attempt(reason, 137)] }));

    const stored = await jobs.get(job.id);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.error).toEqual({
      code: ErrorCode.INTERNAL,
      message: `The GPU worker ended without finishing (Batch job stylize-${job.id}): ${reason}`,
    });
  });

  it('changes nothing on a repeated delivery', async () => {
    const job = await queuedJob();
    const event = stateChange(job.id, 'FAILED', { statusReason: CAPACITY_REASON });
    await handler(event);
    const first = await jobs.get(job.id);

    const again = await handler(event);
    expect(again).toMatchObject({ action: 'ignored', reason: 'already FAILED' });
    expect(await jobs.get(job.id)).toEqual(first);
  });

  it('leaves a job the worker already finished alone, even when the Batch job failed afterwards', async () => {
    const job = await runningJob();
    await jobs.transition(job.id, 'RUNNING', 'SUCCEEDED', { result: { outputKey: `out/${job.id}.png` } });
    const finished = await jobs.get(job.id);

    const result = await handler(
      stateChange(job.id, 'FAILED', {
        statusReason: 'Essential container in task exited',
        attempts: [attempt('x', 1)],
      }),
    );
    expect(result).toMatchObject({ action: 'ignored', reason: 'already SUCCEEDED' });
    expect(await jobs.get(job.id)).toEqual(finished);
  });

  it('keeps the worker’s own failure rather than overwriting it with the Batch reason', async () => {
    const job = await runningJob();
    const error = { code: ErrorCode.INVALID_IMAGE, message: 'The content image is not a decodable image.' };
    await jobs.transition(job.id, 'RUNNING', 'FAILED', { error });

    await handler(
      stateChange(job.id, 'FAILED', {
        statusReason: 'Essential container in task exited',
        attempts: [attempt('x', 1)],
      }),
    );
    expect((await jobs.get(job.id))?.error).toEqual(error);
  });

  it('leaves a RUNNING job alone when the failed Batch job never started a container', async () => {
    const job = await runningJob();
    const result = await handler(stateChange(job.id, 'FAILED', { statusReason: CAPACITY_REASON }));

    expect(result).toMatchObject({ action: 'ignored', reason: 'running in another container' });
    expect((await jobs.get(job.id))?.status).toBe('RUNNING');
  });

  it('ignores events that are not FAILED, and jobs that do not exist', async () => {
    const job = await runningJob();
    expect(await handler(stateChange(job.id, 'SUCCEEDED'))).toMatchObject({ action: 'ignored' });
    expect((await jobs.get(job.id))?.status).toBe('RUNNING');
    expect(await handler(stateChange('no-such-job', 'FAILED'))).toMatchObject({
      action: 'ignored',
      reason: 'no such job',
    });
  });

  it('drops an event without a job id or without a detail', async () => {
    const event = stateChange('x', 'FAILED', { jobName: 'something-else', parameters: {}, tags: {} });
    expect(await handler(event)).toMatchObject({ action: 'dropped', jobId: null });
    const bare = { ...event, detail: null } as unknown as EventBridgeEvent<typeof BATCH_JOB_STATE_CHANGE, null>;
    expect(await handler(bare)).toMatchObject({ action: 'dropped' });
  });

  it('re-reads and decides again when the job moves between the read and the write', async () => {
    const job = await queuedJob();
    // The worker claims the job just after the first read; the conditional write then loses.
    let raced = false;
    const racing = Object.create(jobs) as DynamoJobStore;
    racing.get = async (id: string) => {
      const current = await jobs.get(id);
      if (!raced) {
        raced = true;
        await jobs.transition(id, 'QUEUED', 'RUNNING');
      }
      return current;
    };
    const result = await reconcileBatchFailure(racing, {
      ...stateChange(job.id, 'FAILED', { statusReason: HOST_LOST, attempts: [attempt(HOST_LOST)] }).detail,
    });

    expect(result.action).toBe('failed');
    const stored = await jobs.get(job.id);
    expect(stored).toMatchObject({ status: 'FAILED', attempts: 1 });
  });
});

describe('jobIdOf and batchFailure', () => {
  it('reads the job id from the parameter, then the tag, then the job name', () => {
    expect(jobIdOf({ parameters: { jobId: 'a' }, tags: { 'peerstyle:job-id': 'b' }, jobName: 'stylize-c' })).toBe('a');
    expect(jobIdOf({ parameters: { jobId: 'unset' }, tags: { 'peerstyle:job-id': 'b' } })).toBe('b');
    expect(jobIdOf({ jobName: 'stylize-c' })).toBe('c');
    expect(jobIdOf({ jobName: 'stylize-' })).toBeNull();
  });

  it('names a reason even when Batch gives none', () => {
    expect(batchFailure({ jobName: 'stylize-a' })).toEqual({
      code: ErrorCode.UNAVAILABLE,
      message: 'The GPU worker never started (Batch job stylize-a): AWS Batch gave no reason',
    });
  });
});
