/**
 * cdk-nag AwsSolutions (v3, as a validation plugin): the stack has no finding
 * that is neither fixed nor acknowledged, whether or not its account and
 * region are known at synthesis (acknowledgement ids embed resource ARNs, so
 * both forms are checked); and the check itself does report a violation.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { enableAwsSolutionsChecks } from '../../../infra/lib/nag';
import { PeerstyleStack } from '../../../infra/lib/peerstyle-stack';
import { makeTestApp, synthesizeStack } from '../support/synth';

type Violation = ReturnType<ReturnType<typeof enableAwsSolutionsChecks>['validateScope']>['violations'][number];

const describeViolations = (violations: Violation[]) =>
  violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

describe('cdk-nag AwsSolutions checks', () => {
  it('reports no unacknowledged finding for a stack with a known account and region', () => {
    const { app } = synthesizeStack();
    const { violations } = enableAwsSolutionsChecks(app).validateScope(app);
    expect(describeViolations(violations)).toEqual([]);
  });

  it('reports no unacknowledged finding for an environment-agnostic stack', () => {
    const app = makeTestApp();
    new PeerstyleStack(app, 'Agnostic', { allowedOrigins: ['https://app.example.com'] });
    const { violations } = enableAwsSolutionsChecks(app).validateScope(app);
    expect(describeViolations(violations)).toEqual([]);
  });

  it('reports no unacknowledged finding with the optional account logging role', () => {
    const { app } = synthesizeStack({ setApiGatewayAccountLoggingRole: true });
    const { violations } = enableAwsSolutionsChecks(app).validateScope(app);
    expect(describeViolations(violations)).toEqual([]);
  });

  it('does report findings on a non-compliant resource', () => {
    const app = new App();
    new sqs.Queue(new Stack(app, 'Bad'), 'PlainQueue');
    const { violations } = enableAwsSolutionsChecks(app).validateScope(app);
    expect(violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });
});
