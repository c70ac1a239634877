/**
 * Jobs: the jobs table (key, owner index, TTL, stream, PITR), the API-key and
 * catalog tables, and the stylize and drop-intake queues with their
 * dead-letter queues, TLS enforcement and alarms.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { Jobs } from '../../../infra/lib/jobs';
import { FUNCTION_TIMEOUTS } from '../../../infra/lib/timeouts';
import { logicalIdOf, synthesizeStack, type TemplateResource } from '../support/synth';

describe('Jobs', () => {
  let template: Template;
  let ids: Record<'jobs' | 'apiKeys' | 'catalog' | 'stylize' | 'stylizeDlq' | 'intake' | 'intakeDlq', string>;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const jobs = synth.stack.jobs;
    ids = {
      jobs: logicalIdOf(jobs.jobsTable),
      apiKeys: logicalIdOf(jobs.apiKeysTable),
      catalog: logicalIdOf(jobs.catalogTable),
      stylize: logicalIdOf(jobs.stylize.queue),
      stylizeDlq: logicalIdOf(jobs.stylize.deadLetterQueue),
      intake: logicalIdOf(jobs.dropIntake.queue),
      intakeDlq: logicalIdOf(jobs.dropIntake.deadLetterQueue),
    };
  });

  const tableProps = (id: string) => (template.toJSON().Resources[id] as TemplateResource).Properties ?? {};
  const queueProps = (id: string) => (template.toJSON().Resources[id] as TemplateResource).Properties ?? {};

  it('keys jobs by pk and lists them per owner, newest first, through the byOwner index', () => {
    expect(tableProps(ids.jobs)).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byOwner',
          KeySchema: [
            { AttributeName: 'owner', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
        },
      ],
    });
  });

  it('expires job rows through the expiresAt TTL attribute', () => {
    expect(tableProps(ids.jobs).TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('streams new and old images of job rows', () => {
    expect(tableProps(ids.jobs).StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it('enables point-in-time recovery on the jobs, API-key and catalog tables', () => {
    for (const id of [ids.jobs, ids.apiKeys, ids.catalog]) {
      expect(tableProps(id).PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('keys API keys by their hash, never by the token', () => {
    expect(tableProps(ids.apiKeys).KeySchema).toEqual([{ AttributeName: 'keyHash', KeyType: 'HASH' }]);
  });

  it.each([
    ['stylize', 'stylizeDlq'],
    ['intake', 'intakeDlq'],
  ] as const)('redrives the %s queue to its own dead-letter queue after 3 to 5 receives', (queue, dlq) => {
    const redrive = queueProps(ids[queue]).RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [ids[dlq], 'Arn'] });
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(3);
    expect(redrive.maxReceiveCount).toBeLessThanOrEqual(5);
  });

  it('encrypts every queue and denies non-TLS access to it', () => {
    for (const id of [ids.stylize, ids.stylizeDlq, ids.intake, ids.intakeDlq]) {
      expect(queueProps(id).SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('gives each queue a visibility timeout of six times its consumer timeout', () => {
    expect(queueProps(ids.stylize).VisibilityTimeout).toBe(6 * FUNCTION_TIMEOUTS.stylizeDispatcher.toSeconds());
    expect(queueProps(ids.intake).VisibilityTimeout).toBe(6 * FUNCTION_TIMEOUTS.dropIntake.toSeconds());
  });

  it('alarms on any dead letter and on old messages, for both queues', () => {
    for (const dlq of [ids.stylizeDlq, ids.intakeDlq]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
    for (const queue of [ids.stylize, ids.intake]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Threshold: 900,
      });
    }
  });

  it('rejects a maxReceiveCount outside 3..5', () => {
    const stack = new Stack(new App(), 'Bad');
    expect(() => new Jobs(stack, 'Jobs', { maxReceiveCount: 6 })).toThrow(/from 3 to 5, got 6/);
    expect(() => new Jobs(stack, 'Jobs2', { maxReceiveCount: 2 })).toThrow(/from 3 to 5, got 2/);
  });
});
