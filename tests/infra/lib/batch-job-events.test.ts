/**
 * BatchJobEvents: failed Batch jobs of the stylize queue (and of no other queue) reach the batch
 * events function through an EventBridge rule whose target has retries and a dead-letter queue, and
 * the function may only read and conditionally update items of the jobs table.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { BATCH_JOB_STATE_CHANGE as HANDLER_DETAIL_TYPE } from '../../../functions/handlers/batch-events';
import { BATCH_JOB_STATE_CHANGE } from '../../../infra/lib/batch-job-events';
import { ENV, HANDLER_ENTRIES } from '../../../infra/lib/handlers';
import { logicalIdOf, statementsOfRole, synthesizeStack, type TemplateResource } from '../support/synth';

describe('BatchJobEvents', () => {
  let template: Template;
  let ids: Record<'rule' | 'fn' | 'role' | 'dlq' | 'queue' | 'jobsTable', string>;
  let rule: Record<string, unknown>;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const jobEvents = synth.stack.gpuCompute.jobEvents;
    ids = {
      rule: logicalIdOf(jobEvents.rule),
      fn: logicalIdOf(jobEvents.eventsFunction.function),
      role: logicalIdOf(jobEvents.eventsFunction.role),
      dlq: logicalIdOf(jobEvents.deadLetterQueue),
      queue: logicalIdOf(synth.stack.gpuCompute.jobQueue),
      jobsTable: logicalIdOf(synth.stack.jobs.jobsTable),
    };
    rule = (template.toJSON().Resources[ids.rule] as TemplateResource).Properties ?? {};
  });

  it('is registered in the handler table', () => {
    expect(HANDLER_ENTRIES.batchEvents).toBe('functions/handlers/batch-events.ts');
  });

  it('matches FAILED Batch job state changes of the stylize job queue only', () => {
    expect(HANDLER_DETAIL_TYPE).toBe(BATCH_JOB_STATE_CHANGE);
    expect(rule.EventPattern).toEqual({
      source: ['aws.batch'],
      'detail-type': ['Batch Job State Change'],
      detail: { jobQueue: [{ 'Fn::GetAtt': [ids.queue, 'JobQueueArn'] }], status: ['FAILED'] },
    });
    expect(rule.State).toBe('ENABLED');
  });

  it('targets the function with retries and a dead-letter queue', () => {
    const targets = rule.Targets as Record<string, unknown>[];
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [ids.fn, 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [ids.fn, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ids.rule, 'Arn'] },
    });
  });

  it('keeps undeliverable events encrypted for two weeks, writable by EventBridge from this rule only', () => {
    expect(template.toJSON().Resources[ids.dlq].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ids.dlq }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.rule, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('tells the function only the jobs table', () => {
    const fn = template.toJSON().Resources[ids.fn] as TemplateResource;
    const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[ENV.jobsTable]).toEqual({ Ref: ids.jobsTable });
    expect(Object.keys(variables).sort()).toEqual(['NODE_OPTIONS', ENV.jobsTable].sort());
  });

  it('lets the function get and update items of the jobs table, beyond writing its own logs', () => {
    const statements = statementsOfRole(template, ids.role);
    const data = statements.filter((s) => !s.Action.every((action) => action.startsWith('logs:')));
    expect(data.flatMap((s) => s.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const statement of data) {
      expect(statement.Effect).toBe('Allow');
      for (const resource of statement.Resource) {
        expect(JSON.stringify(resource)).toContain(`"${ids.jobsTable}"`);
      }
    }
    const logs = statements.filter((s) => !data.includes(s));
    expect(logs.flatMap((s) => s.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});
