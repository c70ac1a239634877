/**
 * The grants and environment each function needs for what it actually does with the catalog, the
 * subscription tables and the buckets, and no more: the exact DynamoDB actions per role and table, and
 * object reads limited to the one prefix the function uses. Each expectation names the code path that
 * needs it, so a removed grant fails here rather than at run time on AWS.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { HandlerFunction } from '../../../infra/lib/handler-function';
import { ENV } from '../../../infra/lib/handlers';
import type { PeerstyleStack } from '../../../infra/lib/peerstyle-stack';
import { logicalIdOf, statementsOfRole, synthesizeStack, type TemplateResource } from '../support/synth';

let template: Template;
let stack: PeerstyleStack;
let ids: Record<
  'catalog' | 'apiKeys' | 'connections' | 'subscriptions' | 'uploads' | 'results' | 'models' | 'datasets',
  string
>;

beforeAll(() => {
  const synth = synthesizeStack();
  template = synth.template;
  stack = synth.stack;
  ids = {
    catalog: logicalIdOf(stack.jobs.catalogTable),
    apiKeys: logicalIdOf(stack.jobs.apiKeysTable),
    connections: logicalIdOf(stack.subscriptions.connectionsTable),
    subscriptions: logicalIdOf(stack.subscriptions.subscriptionsTable),
    uploads: logicalIdOf(stack.storage.uploadsBucket),
    results: logicalIdOf(stack.storage.resultsBucket),
    models: logicalIdOf(stack.storage.modelsBucket),
    datasets: logicalIdOf(stack.storage.datasetsBucket),
  };
});

/**
 * Each (statement, resource) pair of a role, one resource at a time: CDK merges statements with the
 * same actions, so one statement may name several tables or buckets.
 */
function grantsOf(roleId: string): { actions: string[]; resource: string; condition?: unknown }[] {
  return statementsOfRole(template, roleId).flatMap((s) =>
    s.Resource.map((r) => ({ actions: s.Action, resource: JSON.stringify(r), condition: s.Condition })),
  );
}

/** The actions a role holds on a table (its ARN, not only its indexes). */
function tableActions(roleId: string, tableId: string): string[] {
  const actions = grantsOf(roleId)
    .filter((g) => g.resource === JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] }))
    .flatMap((g) => g.actions);
  return [...new Set(actions)].sort();
}

/** The object actions a role holds on a bucket, by the key prefix they are limited to. */
function objectActions(roleId: string, bucketId: string): Record<string, string[]> {
  const byPrefix: Record<string, string[]> = {};
  for (const grant of grantsOf(roleId)) {
    if (!grant.resource.includes(`["${bucketId}","Arn"]`)) continue;
    const prefix = /"\/([a-z-]+\/)\*"/.exec(grant.resource)?.[1];
    if (prefix === undefined) continue;
    byPrefix[prefix] = [...new Set([...(byPrefix[prefix] ?? []), ...grant.actions])].sort();
  }
  return byPrefix;
}

/** The `s3:prefix` conditions under which a role may list a bucket. */
function listablePrefixes(roleId: string, bucketId: string): string[] {
  return grantsOf(roleId)
    .filter(
      (g) => g.actions.includes('s3:ListBucket') && g.resource === JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] }),
    )
    .flatMap((g) => (g.condition as { StringLike: { 's3:prefix': string[] } }).StringLike['s3:prefix'])
    .sort();
}

function environmentOf(fn: HandlerFunction): Record<string, unknown> {
  const resource = template.toJSON().Resources[logicalIdOf(fn.function)] as TemplateResource;
  return (resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
}

const child = (scope: { node: { findChild(id: string): unknown } }, id: string) =>
  scope.node.findChild(id) as HandlerFunction;

describe('catalog table', () => {
  it('lets the GraphQL function read it and put styles, with no Scan or delete', () => {
    expect(tableActions(logicalIdOf(stack.api.graphqlFunction.role), ids.catalog)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
  });

  it('lets the training events function register models (get by id, counter update, put) and nothing else', () => {
    const role = logicalIdOf(stack.training.eventsFunction.role);
    expect(objectActions(role, ids.models)).toEqual({
      'models/': ['s3:AbortMultipartUpload', 's3:PutObject'],
      'training-output/': ['s3:GetObject'],
    });
    expect(tableActions(role, ids.catalog)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  it('lets the stylize worker get a model record, and gives it the table name', () => {
    const jobRole = logicalIdOf(stack.gpuCompute.jobRole);
    expect(tableActions(jobRole, ids.catalog)).toEqual(['dynamodb:GetItem']);
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: {
        Environment: Match.arrayWith([{ Name: ENV.catalogTable, Value: { Ref: ids.catalog } }]),
      },
    });
  });
});

describe('subscriptions', () => {
  it('lets ws-message forget a closed connection and every subscription of it', () => {
    const role = logicalIdOf(child(stack.subscriptions, 'Message').role);
    expect(tableActions(role, ids.connections)).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(tableActions(role, ids.subscriptions)).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
  });

  it('lets the publisher look keys up by hash, to stop delivering to revoked ones, and forget their connections', () => {
    const publisher = stack.subscriptions.publisherFunction;
    const role = logicalIdOf(publisher.role);
    expect(tableActions(role, ids.apiKeys)).toEqual(['dynamodb:GetItem']);
    expect(environmentOf(publisher)[ENV.apiKeysTable]).toEqual({ Ref: ids.apiKeys });
    expect(tableActions(role, ids.connections)).toEqual(['dynamodb:DeleteItem']);
    expect(tableActions(role, ids.subscriptions)).toEqual(['dynamodb:DeleteItem', 'dynamodb:Query']);
  });

  it('lets both event-rendering functions read results under out/ only, and names the bucket', () => {
    for (const fn of [child(stack.subscriptions, 'Message'), stack.subscriptions.publisherFunction]) {
      const role = logicalIdOf(fn.role);
      expect(objectActions(role, ids.results)).toEqual({ 'out/': ['s3:GetObject'] });
      expect(listablePrefixes(role, ids.results)).toEqual(['out/*']);
      expect(environmentOf(fn)[ENV.resultsBucket]).toEqual({ Ref: ids.results });
    }
  });
});

describe('style images under styles/', () => {
  it('may be read and listed by the drop-folder intake', () => {
    const role = logicalIdOf(stack.dropFolder.intakeFunction.role);
    expect(objectActions(role, ids.uploads)).toEqual({
      'drop/': ['s3:GetObject'],
      'rejected/': ['s3:AbortMultipartUpload', 's3:PutObject'],
      'styles/': ['s3:GetObject'],
    });
    expect(listablePrefixes(role, ids.uploads)).toEqual(['drop/*', 'styles/*']);
  });

  it('may be read by the stylize worker, which may not write the uploads bucket', () => {
    expect(objectActions(logicalIdOf(stack.gpuCompute.jobRole), ids.uploads)).toEqual({
      'drop/': ['s3:GetObject'],
      'job-inputs/': ['s3:GetObject'],
      'saved-styles/': ['s3:GetObject'],
      'styles/': ['s3:GetObject'],
      'uploads/': ['s3:GetObject'],
    });
  });
});

describe('API uploads under uploads/', () => {
  it('may be signed for, checked and listed by the GraphQL function, and nothing else in that bucket is readable', () => {
    const role = logicalIdOf(stack.api.graphqlFunction.role);
    // PutObject: the presigned POST carries the signer's permission; GetObject: HeadObject on the
    // upload before a job or style uses it; ListBucket on uploads/*: startTraining's non-empty check.
    // saved-styles/ and job-inputs/: registerStyle and stylize copy uploads there (CopyObject is a
    // GetObject on the source and a PutObject on the copy) and sign downloads of style images.
    expect(objectActions(role, ids.uploads)).toEqual({
      'job-inputs/': ['s3:GetObject', 's3:PutObject'],
      'saved-styles/': ['s3:GetObject', 's3:PutObject'],
      'uploads/': ['s3:GetObject', 's3:PutObject'],
    });
    expect(listablePrefixes(role, ids.uploads)).toEqual(['job-inputs/*', 'saved-styles/*', 'uploads/*']);
    expect(environmentOf(stack.api.graphqlFunction)[ENV.uploadsBucket]).toEqual({ Ref: ids.uploads });
  });

  it('may be read by the stylize worker for jobs whose inputs are upload keys', () => {
    expect(listablePrefixes(logicalIdOf(stack.gpuCompute.jobRole), ids.uploads)).toEqual([
      'drop/*',
      'job-inputs/*',
      'saved-styles/*',
      'styles/*',
      'uploads/*',
    ]);
  });
});

describe('staging an uploaded training dataset', () => {
  it('lets the launcher list and read uploads/ and only write datasets/, and names both buckets', () => {
    const role = logicalIdOf(stack.training.launcherFunction.role);
    expect(objectActions(role, ids.uploads)).toEqual({ 'uploads/': ['s3:GetObject'] });
    expect(listablePrefixes(role, ids.uploads)).toEqual(['uploads/*']);
    expect(objectActions(role, ids.datasets)).toEqual({ 'datasets/': ['s3:AbortMultipartUpload', 's3:PutObject'] });
    expect(listablePrefixes(role, ids.datasets)).toEqual([]);
    const env = environmentOf(stack.training.launcherFunction);
    expect(env[ENV.uploadsBucket]).toEqual({ Ref: ids.uploads });
    expect(env[ENV.datasetsBucket]).toEqual({ Ref: ids.datasets });
  });
});

describe('the GraphQL function', () => {
  it('needs no queue setting: the job dispatch relay queues what it writes', () => {
    const env = environmentOf(stack.api.graphqlFunction);
    expect(env[ENV.stylizeQueueUrl]).toBeUndefined();
    expect(Object.keys(env).filter((name) => /DEAD_LETTER/.test(name))).toEqual([]);
  });
});

describe('stopping training runs', () => {
  it('lets the GraphQL function stop only the platform’s SageMaker runs, and names their prefix', () => {
    const stops = grantsOf(logicalIdOf(stack.api.graphqlFunction.role)).filter((g) =>
      g.actions.includes('sagemaker:StopTrainingJob'),
    );
    expect(stops).toHaveLength(1);
    expect(stops[0]?.actions).toEqual(['sagemaker:StopTrainingJob']);
    expect(stops[0]?.resource).toContain(':training-job/peerstyle-*');
    expect(environmentOf(stack.api.graphqlFunction)[ENV.trainingJobPrefix]).toBe('peerstyle-');
  });
});
