/**
 * GpuCompute: a scale-to-zero Batch environment of single-GPU instances on
 * the NVIDIA AL2023 ECS image, a job queue that cancels stuck RUNNABLE jobs,
 * a one-GPU job definition with host-loss retries and separate roles, the
 * dispatcher fed by the stylize queue, and a NAT-free VPC with flow logs.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthesizeStack, type TemplateResource } from '../support/synth';

describe('GpuCompute', () => {
  let template: Template;
  let ids: Record<
    | 'computeEnv'
    | 'jobDef'
    | 'jobRole'
    | 'executionRole'
    | 'dispatcherFn'
    | 'stylizeQueue'
    | 'vpc'
    | 'instanceSg'
    | 'endpointSg',
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
      instanceSg: logicalIdOf(gpu.instanceSecurityGroup),
      endpointSg: logicalIdOf(gpu.endpointSecurityGroup),
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

  it('has no NAT gateway, no internet gateway, no public IPs, and flow logs', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet') as Record<string, TemplateResource>);
    expect(subnets.length).toBe(2);
    for (const subnet of subnets) expect(subnet.Properties?.MapPublicIpOnLaunch).not.toBe(true);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: { Ref: ids.vpc }, TrafficType: 'ALL' });
  });

  it('reaches S3 and DynamoDB through gateway endpoints and ECR, ECS and CloudWatch Logs through interface endpoints', () => {
    const endpoints = Object.values(
      template.findResources('AWS::EC2::VPCEndpoint') as Record<string, TemplateResource>,
    ).map((e) => ({ service: JSON.stringify(e.Properties?.ServiceName), props: e.Properties ?? {} }));
    const gateway = endpoints.filter((e) => e.props.VpcEndpointType === 'Gateway').map((e) => e.service);
    expect(gateway.some((s) => s.includes('.s3'))).toBe(true);
    expect(gateway.some((s) => s.includes('.dynamodb'))).toBe(true);
    const interfaces = endpoints.filter((e) => e.props.VpcEndpointType === 'Interface');
    for (const service of ['.ecr.api', '.ecr.dkr', '.ecs', '.ecs-agent', '.ecs-telemetry', '.logs']) {
      const endpoint = interfaces.find(
        (e) => e.service.endsWith(`${service}"]]}`) || e.service.endsWith(`${service}"`),
      );
      expect({ service, found: endpoint !== undefined }).toEqual({ service, found: true });
      expect(endpoint?.props.PrivateDnsEnabled).toBe(true);
      expect(endpoint?.props.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [ids.endpointSg, 'GroupId'] }]);
    }
  });

  it('lets the GPU instances send only HTTPS, and only to the VPC endpoints and the S3 and DynamoDB prefix lists', () => {
    const group = template.toJSON().Resources[ids.instanceSg] as TemplateResource;
    const inline = (group.Properties?.SecurityGroupEgress ?? []) as Record<string, unknown>[];
    const standalone = Object.values(
      template.findResources('AWS::EC2::SecurityGroupEgress') as Record<string, TemplateResource>,
    )
      .map((r) => r.Properties ?? {})
      .filter((p) => JSON.stringify(p.GroupId).includes(ids.instanceSg));
    const rules = [...inline, ...standalone];
    expect(rules.length).toBe(3);
    for (const rule of rules) {
      expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
      expect(rule.CidrIp).toBeUndefined();
      expect(rule.CidrIpv6).toBeUndefined();
    }
    expect(
      rules.filter((r) => JSON.stringify(r.DestinationSecurityGroupId ?? null).includes(ids.endpointSg)),
    ).toHaveLength(1);
    expect(rules.filter((r) => r.DestinationPrefixListId !== undefined)).toHaveLength(2);
    // The endpoints answer only the GPU instances.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [ids.endpointSg, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [ids.instanceSg, 'GroupId'] },
      FromPort: 443,
      ToPort: 443,
    });
  });

  it('admits no inbound traffic to the GPU instances', () => {
    const group = template.toJSON().Resources[ids.instanceSg] as TemplateResource;
    expect(group.Properties?.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(
      template.findResources('AWS::EC2::SecurityGroupIngress') as Record<string, TemplateResource>,
    ).filter((r) => JSON.stringify(r.Properties?.GroupId).includes(ids.instanceSg));
    expect(ingress).toEqual([]);
  });
});
