/**
 * PeerstyleStack: composes the seven task constructs and publishes the
 * endpoints clients need as stack outputs; deployer settings reach the
 * constructs.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthesizeStack } from '../support/synth';

describe('PeerstyleStack', () => {
  let template: Template;
  let ids: { httpApi: string; webSocketApi: string; uploads: string };

  beforeAll(() => {
    const synth = synthesizeStack({ gpuMaxvCpus: 32, gpuInstanceTypes: [new ec2.InstanceType('g6.xlarge')] });
    template = synth.template;
    ids = {
      httpApi: logicalIdOf(synth.stack.api.httpApi),
      webSocketApi: logicalIdOf(synth.stack.subscriptions.webSocketApi),
      uploads: logicalIdOf(synth.stack.storage.uploadsBucket),
    };
  });

  it('outputs the GraphQL URL, the subscriptions URL and the uploads bucket', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.GraphqlUrl?.Value)).toContain(ids.httpApi);
    expect(JSON.stringify(outputs.GraphqlUrl?.Value)).toContain('/graphql');
    expect(JSON.stringify(outputs.SubscriptionsUrl?.Value)).toContain(ids.webSocketApi);
    expect(JSON.stringify(outputs.SubscriptionsUrl?.Value)).toMatch(/wss:\/\/.*\/live/);
    expect(outputs.UploadsBucketName?.Value).toEqual({ Ref: ids.uploads });
  });

  it('passes GPU settings through to the compute environment', () => {
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: { InstanceTypes: ['g6.xlarge'], MaxvCpus: 32, MinvCpus: 0 },
    });
  });
});
