/**
 * Training: the launcher's SageMaker settings, the metric definitions against
 * the trainer's METRIC lines, the execution role's scope, and the EventBridge
 * rule that reports training state changes.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Training } from '../../../infra/lib/training';
import { scrapeMetrics, TRAINING_METRIC_DEFINITIONS } from '../../../infra/lib/training-metrics';
import { logicalIdOf, makeTestApp, statementsOfRole, synthesizeStack, type TemplateResource } from '../support/synth';

const SAMPLE_LINE = 'METRIC step=120 loss_idt=0.0412 loss_adv_g=0.98 loss_d=0.51 it_per_s=0.42';

describe('training metric definitions', () => {
  it('capture every value of a METRIC line, with a regex SageMaker accepts', () => {
    expect(scrapeMetrics(SAMPLE_LINE)).toEqual({
      'train:step': 120,
      'train:loss_idt': 0.0412,
      'train:loss_adv_g': 0.98,
      'train:loss_d': 0.51,
      'train:it_per_s': 0.42,
    });
    for (const { Regex } of TRAINING_METRIC_DEFINITIONS) expect(Regex.length).toBeLessThanOrEqual(500);
  });

  it('read exponent and negative numbers, and fields in any order', () => {
    expect(scrapeMetrics('METRIC loss_d=-1.5e-03 step=7')).toEqual({ 'train:step': 7, 'train:loss_d': -0.0015 });
  });

  it('ignore lines without the METRIC tag and never confuse loss_d with a longer name', () => {
    expect(scrapeMetrics('step=120 loss_d=0.51')).toEqual({});
    expect(scrapeMetrics('METRIC xloss_d=9 loss_adv_g=0.98')).toEqual({ 'train:loss_adv_g': 0.98 });
  });
});

describe('Training', () => {
  let template: Template;
  let ids: Record<'launcherFn' | 'eventsFn' | 'executionRole' | 'datasets' | 'models', string>;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const training = synth.stack.training;
    ids = {
      launcherFn: logicalIdOf(training.launcherFunction.function),
      eventsFn: logicalIdOf(training.eventsFunction.function),
      executionRole: logicalIdOf(training.executionRole),
      datasets: logicalIdOf(synth.stack.storage.datasetsBucket),
      models: logicalIdOf(synth.stack.storage.modelsBucket),
    };
  });

  const launcherEnv = () =>
    (
      (template.toJSON().Resources[ids.launcherFn] as TemplateResource).Properties?.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  it('hands the launcher the metric definitions, Spot settings and the trainer image', () => {
    const env = launcherEnv();
    expect(JSON.parse(env.PEERSTYLE_TRAINING_METRIC_DEFINITIONS as string)).toEqual(TRAINING_METRIC_DEFINITIONS);
    expect(env.PEERSTYLE_TRAINING_USE_SPOT).toBe('true');
    expect(Number(env.PEERSTYLE_TRAINING_MAX_WAIT_SECONDS)).toBeGreaterThanOrEqual(
      Number(env.PEERSTYLE_TRAINING_MAX_RUNTIME_SECONDS),
    );
    expect(JSON.stringify(env.PEERSTYLE_TRAINING_IMAGE_URI)).toContain('container-assets');
    expect(env.PEERSTYLE_TRAINING_ROLE_ARN).toEqual({ 'Fn::GetAtt': [ids.executionRole, 'Arn'] });
  });

  it('routes SageMaker training state changes of this platform\u2019s jobs to the events function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Training Job State Change'],
        detail: { TrainingJobName: [{ prefix: 'peerstyle-' }] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [ids.eventsFn, 'Arn'] },
          DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }),
        }),
      ],
    });
  });

  it('lets SageMaker assume the execution role', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' })],
      },
    });
  });

  it('scopes the execution role to datasets/ for reading and checkpoints/ and training-output/ for writing', () => {
    const statements = statementsOfRole(template, ids.executionRole);
    const objectResources = statements
      .filter((s) => s.Action.some((a) => a === 's3:GetObject' || a === 's3:PutObject'))
      .map((s) => ({ actions: [...s.Action].sort(), resource: JSON.stringify(s.Resource) }));
    expect(objectResources).toEqual(
      expect.arrayContaining([
        { actions: ['s3:GetObject'], resource: expect.stringMatching(new RegExp(`${ids.datasets}.*/datasets/\\*`)) },
        {
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resource: expect.stringMatching(new RegExp(`${ids.models}.*/checkpoints/\\*`)),
        },
        {
          actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
          resource: expect.stringMatching(new RegExp(`${ids.models}.*/training-output/\\*`)),
        },
      ]),
    );
    expect(objectResources).toHaveLength(3);
  });

  it('lets the launcher pass the execution role to SageMaker only', () => {
    const launcherRole = JSON.stringify(
      (template.toJSON().Resources[ids.launcherFn] as TemplateResource).Properties?.Role,
    );
    const passRole = statementsOfRole(template, JSON.parse(launcherRole)['Fn::GetAtt'][0]).find((s) =>
      s.Action.includes('iam:PassRole'),
    );
    expect(passRole?.Resource).toEqual([{ 'Fn::GetAtt': [ids.executionRole, 'Arn'] }]);
  });

  it('refuses a Spot maxWait shorter than maxRuntime', () => {
    const stack = new Stack(makeTestApp(), 'Bad');
    const bucket = new s3.Bucket(stack, 'B');
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const make = () =>
      new Training(stack, 'Training', {
        datasetsBucket: bucket,
        uploadsBucket: bucket,
        modelsBucket: bucket,
        jobsTable: table,
        catalogTable: table,
        maxRuntime: Duration.hours(2),
        maxWait: Duration.hours(1),
      });
    expect(make).toThrow(/maxWait \(3600 s\) must be at least maxRuntime \(7200 s\)/);
  });
});
