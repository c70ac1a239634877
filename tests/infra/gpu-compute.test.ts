/**
 * GpuCompute: a scale-to-zero Batch environment of single-GPU instances on
 * the NVIDIA AL2023 ECS image, a job queue that cancels stuck RUNNABLE jobs,
 * a one-GPU job definition with host-loss retries and separate roles, the
 * dispatcher fed by the stylize queue, and a NAT-free VPC with flow logs.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthesizeStack, type TemplateResource } from './support/synth';

describe('GpuCompute', () => {
  let template: Template;
  let ids: Record<
    'computeEnv' | 'jobDef' | 'jobRole' | 'executionRole' | 'dispatcherFn' | 'stylizeQueue' | 'vpc',
    string
  >;
  let jobDefinition: Record<string, unknown>;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const gpu = synth.stack.gpuCompute;
    ids = {
      computeEnv: logicalIdOf(gpu.computeEnvironment),
      jobDef: logicalIdOf(gpu.jobDefinition),
      jobRole: logicalIdOf(gpu.jobRole),
      executionRole: logicalIdOf(gpu.executionRole),
      dispatcherFn: logicalIdOf(gpu.dispatcherFunction.function),
      stylizeQueue: logicalIdOf(synth.stack.jobs.stylize.queue),
      vpc: logicalIdOf(gpu.vpc),
    };
    jobDefinition = (template.toJSON().Resources[ids.jobDef] as TemplateResource).Properties ?? {};
  });

  it('scales GPU instances between 0 and maxvCpus with the NVIDIA AL2023 ECS image', () => {
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      Type: 'managed',
      ComputeResources: Match.objectLike({
        Type: 'EC2',
        MinvCpus: 0,
        MaxvCpus: 16,
        InstanceTypes: ['g5.xlarge', 'g4dn.xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
      }),
    });
  });

  it('does not add the CPU-only optimal instance classes', () => {
    const env = template.toJSON().Resources[ids.computeEnv] as TemplateResource;
    const types = (env.Properties?.ComputeResources as { InstanceTypes: string[] }).InstanceTypes;
    expect(types).not.toContain('optimal');
  });

  it('cancels jobs stuck in RUNNABLE for want of capacity', () => {
    template.hasResourceProperties('AWS::Batch::JobQueue', {
      JobStateTimeLimitActions: Match.arrayWith([
        {
          Action: 'CANCEL',
          State: 'RUNNABLE',
          Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
          MaxTimeSeconds: 1800,
        },
      ]),
    });
  });

  it('asks for exactly one GPU per stylize job', () => {
    const container = jobDefinition.ContainerProperties as { ResourceRequirements: { Type: string; Value: string }[] };
    expect(container.ResourceRequirements).toContainEqual({ Type: 'GPU', Value: '1' });
  });

  it('retries on lost hosts, Spot reclaims and failed pulls, and exits on anything else', () => {
    const strategy = jobDefinition.RetryStrategy as { Attempts: number; EvaluateOnExit: Record<string, string>[] };
    expect(strategy.Attempts).toBe(3);
    expect(strategy.EvaluateOnExit).toEqual([
      expect.objectContaining({ Action: 'RETRY', OnStatusReason: 'Host EC2*' }),
      expect.objectContaining({ Action: 'RETRY', OnReason: 'CannotPullContainerError:*' }),
      expect.objectContaining({ Action: 'EXIT', OnReason: '*' }),
    ]);
  });

  it('stops a job after its timeout', () => {
    expect(jobDefinition.Timeout).toEqual({ AttemptDurationSeconds: 900 });
  });

  it('runs the container with a job role separate from its execution role, logging to CloudWatch', () => {
    const container = jobDefinition.ContainerProperties as Record<string, unknown>;
    expect(container.JobRoleArn).toEqual({ 'Fn::GetAtt': [ids.jobRole, 'Arn'] });
    expect(container.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': [ids.executionRole, 'Arn'] });
    expect(ids.jobRole).not.toEqual(ids.executionRole);
    expect(container.LogConfiguration).toMatchObject({ LogDriver: 'awslogs' });
    expect(container.Command).toEqual(['worker', '--job-id', 'Ref::jobId']);
  });

  it('drains the stylize queue through the dispatcher, reporting failed items', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.dispatcherFn },
      EventSourceArn: { 'Fn::GetAtt': [ids.stylizeQueue, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('has no NAT gateway, public subnets only, S3 and DynamoDB gateway endpoints, and flow logs', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet') as Record<string, TemplateResource>);
    expect(subnets.length).toBe(2);
    for (const subnet of subnets) expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(true);
    const endpoints = Object.values(
      template.findResources('AWS::EC2::VPCEndpoint') as Record<string, TemplateResource>,
    );
    const services = endpoints.map((e) => JSON.stringify(e.Properties?.ServiceName));
    expect(services.some((s) => s.includes('.s3'))).toBe(true);
    expect(services.some((s) => s.includes('.dynamodb'))).toBe(true);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: { Ref: ids.vpc }, TrafficType: 'ALL' });
  });

  it('admits no inbound traffic to the GPU instances', () => {
    const groups = Object.values(template.findResources('AWS::EC2::SecurityGroup') as Record<string, TemplateResource>);
    for (const group of groups) expect(group.Properties?.SecurityGroupIngress).toBeUndefined();
  });
});
