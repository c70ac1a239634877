/**
 * `SqsJobQueue` opened to enqueue only (no dead-letter queue URL), as the GraphQL and drop-intake
 * functions open it, against local-aws-sqs on loopback: enqueueing works, and the consumer operations
 * that would need the dead-letter queue refuse with INTERNAL instead of calling SQS with an empty URL.
 */

import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SqsJobQueue } from '../../../../functions/adapters/aws';
import { ErrorCode } from '../../../../functions/core';
import { expectDomainError } from '../../../support/expect-domain-error';
import { startSqs, type SqsEmulator } from '../../../support/emulators';

let sqs: SqsEmulator;
beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(async () => {
  await sqs?.stop();
});

test('an enqueue-only queue sends the job id, and refuses the operations that need a dead-letter queue', async () => {
  const { queueUrl } = await sqs.newQueuePair(4);
  const queue = new SqsJobQueue({ client: sqs.client, queueUrl });
  await queue.enqueue('job-123');

  const received = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1 }));
  expect(received.Messages?.map((m) => (JSON.parse(m.Body ?? '{}') as { jobId?: string }).jobId)).toEqual(['job-123']);

  const refused = await expectDomainError(queue.stats(), ErrorCode.INTERNAL);
  expect(refused.message).toContain('enqueue only');
  await expectDomainError(queue.receiveDeadLetters(1), ErrorCode.INTERNAL);
});

test('an empty dead-letter queue URL counts as none', async () => {
  const { queueUrl } = await sqs.newQueuePair(4);
  const queue = new SqsJobQueue({ client: sqs.client, queueUrl, deadLetterQueueUrl: '' });
  await expectDomainError(queue.ackDeadLetter('x'), ErrorCode.INTERNAL);
});
