/**
 * JobDispatch: the jobs table's stream is the outbox of new jobs. Only inserts of items the GraphQL
 * function marked reach the relay, which alone may send to the stylize queue and start training; a
 * record it cannot relay is retried, then kept in a dead-letter queue with an alarm. The GraphQL
 * function, which only writes the row, may do neither.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, statementsOfRole, synthesizeStack, type TemplateResource } from '../support/synth';

describe('JobDispatch', () => {
  let template: Template;
  let ids: Record<'fn' | 'role' | 'jobsTable' | 'queue' | 'launcher' | 'graphqlRole' | 'graphqlFn' | 'dlq', string>;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const { stack } = synth;
    ids = {
      fn: logicalIdOf(stack.jobDispatch.dispatchFunction.function),
      role: logicalIdOf(stack.jobDispatch.dispatchFunction.role),
      jobsTable: logicalIdOf(stack.jobs.jobsTable),
      queue: logicalIdOf(stack.jobs.stylize.queue),
      launcher: logicalIdOf(stack.training.launcherFunction.function),
      graphqlRole: logicalIdOf(stack.api.graphqlFunction.role),
      graphqlFn: logicalIdOf(stack.api.graphqlFunction.function),
      dlq: logicalIdOf(stack.jobDispatch.deadLetterQueue),
    };
  });

  it('relays only inserts of marked job items from the jobs table stream, retrying failed records', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.fn },
      EventSourceArn: { 'Fn::GetAtt': [ids.jobsTable, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { dispatch: { S: ['stream'] } } } }),
          },
        ],
      },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } } },
    });
  });

  it('alarms when a job could not be relayed', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('lets the relay send to the stylize queue and invoke the training launcher', () => {
    const actions = statementsOfRole(template, ids.role).flatMap((s) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'lambda:InvokeFunction']));
    const fn = template.toJSON().Resources[ids.fn] as TemplateResource;
    expect(fn.Properties?.Environment).toEqual({
      Variables: expect.objectContaining({
        PEERSTYLE_STYLIZE_QUEUE_URL: { Ref: ids.queue },
        PEERSTYLE_TRAINING_LAUNCHER_FUNCTION: { Ref: ids.launcher },
      }),
    });
  });

  it('leaves the GraphQL function unable to queue or start jobs itself', () => {
    const actions = statementsOfRole(template, ids.graphqlRole).flatMap((s) => s.Action);
    expect(actions.filter((a) => a.startsWith('sqs:') || a === 'lambda:InvokeFunction')).toEqual([]);
    const fn = template.toJSON().Resources[ids.graphqlFn] as TemplateResource;
    const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.PEERSTYLE_STYLIZE_QUEUE_URL).toBeUndefined();
    expect(variables.PEERSTYLE_TRAINING_LAUNCHER_FUNCTION).toBeUndefined();
  });
});
