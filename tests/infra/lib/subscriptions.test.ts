/**
 * Subscriptions: a WebSocket API with $connect, $disconnect and $default
 * routes, connection and subscription tables with TTL, and a publisher fed by
 * the jobs table stream that may manage connections of this API only.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, policyStatements, synthesizeStack, type TemplateResource } from '../support/synth';

describe('Subscriptions', () => {
  let template: Template;
  let ids: Record<
    'api' | 'connections' | 'subscriptions' | 'publisherFn' | 'jobsTable' | 'messageRole' | 'publisherRole',
    string
  >;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const subs = synth.stack.subscriptions;
    ids = {
      api: logicalIdOf(subs.webSocketApi),
      connections: logicalIdOf(subs.connectionsTable),
      subscriptions: logicalIdOf(subs.subscriptionsTable),
      publisherFn: logicalIdOf(subs.publisherFunction.function),
      publisherRole: logicalIdOf(subs.publisherFunction.role),
      messageRole: logicalIdOf(subs.node.findChild('Message').node.findChild('Role')),
      jobsTable: logicalIdOf(synth.stack.jobs.jobsTable),
    };
  });

  it('is a WebSocket API', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
  });

  it('routes $connect, $disconnect and $default to Lambda integrations', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route', {
      Properties: { ApiId: { Ref: ids.api } },
    }) as Record<string, TemplateResource>;
    const keys = Object.values(routes).map((route) => route.Properties?.RouteKey);
    expect(keys.sort()).toEqual(['$connect', '$default', '$disconnect']);
    for (const route of Object.values(routes)) {
      expect(JSON.stringify(route.Properties?.Target)).toContain('integrations/');
    }
  });

  it('throttles and access-logs the live stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: ids.api },
      StageName: 'live',
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('expires connection and subscription rows by TTL', () => {
    for (const id of [ids.connections, ids.subscriptions]) {
      const table = template.toJSON().Resources[id] as TemplateResource;
      expect(table.Properties?.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    }
  });

  it('indexes subscriptions by topic for the publisher', () => {
    const table = template.toJSON().Resources[ids.subscriptions] as TemplateResource;
    expect(table.Properties?.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: 'byTopic',
        KeySchema: [
          { AttributeName: 'topic', KeyType: 'HASH' },
          { AttributeName: 'connectionId', KeyType: 'RANGE' },
        ],
      }),
    ]);
  });

  it('feeds the publisher from the jobs table stream, reporting failed items', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.publisherFn },
      EventSourceArn: { 'Fn::GetAtt': [ids.jobsTable, 'StreamArn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: true,
    });
  });

  it('allows execute-api:ManageConnections only on this API\u2019s live stage, and only to message and publisher', () => {
    const manage = policyStatements(template).filter((s) => s.Action.includes('execute-api:ManageConnections'));
    expect(manage.length).toBe(2);
    const roles = manage.map((s) => JSON.stringify(s.roles));
    expect(roles.some((r) => r.includes(ids.messageRole))).toBe(true);
    expect(roles.some((r) => r.includes(ids.publisherRole))).toBe(true);
    for (const statement of manage) {
      expect(statement.Action).toEqual(['execute-api:ManageConnections']);
      expect(statement.Resource).toHaveLength(1);
      const resource = JSON.stringify(statement.Resource[0]);
      expect(resource).toContain(`{"Ref":"${ids.api}"}`);
      expect(resource).toContain('/live/*/@connections/*');
    }
  });
});
