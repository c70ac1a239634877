/**
 * The stylize dispatcher: SQS messages from the stylize queue become one Batch SubmitJob each, with
 * partial batch failures. AWS Batch has no local implementation, so its client is replaced with
 * aws-sdk-client-mock; the handler is configured through the same environment variables the stack
 * sets, and the messages are the exact bodies the stylize queue adapter writes.
 */

import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, jobIdOf } from '../../../functions/handlers/stylize-dispatcher';

const batch = mockClient(BatchClient);
const savedEnv = { ...process.env };
const QUEUE = 'arn:aws:batch:eu-west-1:123456789012:job-queue/stylize';
const DEFINITION = 'arn:aws:batch:eu-west-1:123456789012:job-definition/stylize-worker:3';

beforeAll(() => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    PEERSTYLE_BATCH_JOB_QUEUE: QUEUE,
    PEERSTYLE_BATCH_JOB_DEFINITION: DEFINITION,
  });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterAll(() => {
  process.env = savedEnv;
  jest.restoreAllMocks();
});
beforeEach(() => batch.reset());

const record = (messageId: string, body: string): SQSRecord => ({ messageId, body }) as SQSRecord;
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

test('each message is submitted once, with the job id as the job definition parameter', async () => {
  batch
    .on(SubmitJobCommand)
    .callsFake((input: { jobName: string }) => ({ jobId: `batch-${input.jobName}`, jobName: input.jobName }));
  const response = await handler(event(record('a', '{"jobId":"job-1"}'), record('b', '{"jobId":"job-2"}')));
  expect(response.batchItemFailures).toEqual([]);
  const calls = batch.commandCalls(SubmitJobCommand).map((call) => call.args[0].input);
  expect(calls).toEqual([
    expect.objectContaining({
      jobQueue: QUEUE,
      jobDefinition: DEFINITION,
      parameters: { jobId: 'job-1' },
      jobName: 'stylize-job-1',
    }),
    expect.objectContaining({
      jobQueue: QUEUE,
      jobDefinition: DEFINITION,
      parameters: { jobId: 'job-2' },
      jobName: 'stylize-job-2',
    }),
  ]);
});

test('a throttled submission is retried alone; a message without a job id is acknowledged', async () => {
  const throttled = Object.assign(new Error('Rate exceeded'), {
    name: 'TooManyRequestsException',
    $metadata: { httpStatusCode: 429 },
  });
  // aws-sdk-client-mock lets a later, narrower matcher override the general one.
  batch
    .on(SubmitJobCommand)
    .resolves({ jobId: 'b-1', jobName: 'stylize-job' })
    .on(SubmitJobCommand, { parameters: { jobId: 'job-2' } })
    .rejects(throttled);
  const response = await handler(
    event(
      record('ok', '{"jobId":"job-1"}'),
      record('throttled', '{"jobId":"job-2"}'),
      record('junk', 'hello'),
      record('ok-2', '{"jobId":"job-3"}'),
    ),
  );
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'throttled' }]);
  // The junk message made no call; the others each made one.
  expect(batch.commandCalls(SubmitJobCommand).map((c) => c.args[0].input.parameters?.jobId)).toEqual([
    'job-1',
    'job-2',
    'job-3',
  ]);
});

test('job ids are read only from a JSON object with a non-empty "jobId" string', () => {
  expect(jobIdOf('{"jobId":"x"}')).toBe('x');
  expect(jobIdOf('{"jobId":""}')).toBeNull();
  expect(jobIdOf('{"jobId":7}')).toBeNull();
  expect(jobIdOf('null')).toBeNull();
  expect(jobIdOf('{')).toBeNull();
});
