/**
 * DropFolder: objects created under drop/ in the uploads bucket are queued for
 * the intake function; nothing else in any bucket sends notifications, so
 * results under out/ can never start a job.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthesizeStack, type TemplateResource } from '../support/synth';
import { at } from '../../support/checked';

describe('DropFolder', () => {
  let template: Template;
  let ids: Record<'uploads' | 'results' | 'intakeQueue' | 'intakeFn', string>;
  let notifications: TemplateResource[];

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    ids = {
      uploads: logicalIdOf(synth.stack.storage.uploadsBucket),
      results: logicalIdOf(synth.stack.storage.resultsBucket),
      intakeQueue: logicalIdOf(synth.stack.jobs.dropIntake.queue),
      intakeFn: logicalIdOf(synth.stack.dropFolder.intakeFunction.function),
    };
    notifications = Object.values(
      template.findResources('Custom::S3BucketNotifications') as Record<string, TemplateResource>,
    );
  });

  it('sends every OBJECT_CREATED event under drop/ in the uploads bucket to the intake queue', () => {
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Properties).toMatchObject({
      BucketName: { Ref: ids.uploads },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'drop/' }] } },
            QueueArn: { 'Fn::GetAtt': [ids.intakeQueue, 'Arn'] },
          },
        ],
      },
    });
  });

  it('configures no notification on the results bucket or on the out/ prefix', () => {
    const everything = JSON.stringify(notifications);
    expect(everything).not.toContain(ids.results);
    expect(everything).not.toContain('"out/"');
    const config = at(notifications, 0).Properties?.NotificationConfiguration as Record<string, unknown>;
    expect(Object.keys(config)).toEqual(['QueueConfigurations']);
  });

  it('consumes the intake queue with partial batch failure reporting', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.intakeFn },
      EventSourceArn: { 'Fn::GetAtt': [ids.intakeQueue, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('sizes the intake queue for S3 events and for the function timeout', () => {
    const queue = (template.toJSON().Resources[ids.intakeQueue] as TemplateResource).Properties ?? {};
    const fn = (template.toJSON().Resources[ids.intakeFn] as TemplateResource).Properties ?? {};
    expect(queue.MaximumMessageSize as number).toBeGreaterThanOrEqual(64 * 1024);
    expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (fn.Timeout as number));
  });

  it('lets S3 (and only S3, from this account) send to the intake queue', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ids.intakeQueue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.uploads, 'Arn'] } } }),
          }),
        ]),
      },
    });
  });
});
