/**
 * GraphqlApi: an HTTP API whose /graphql routes run Apollo Server on Node 24
 * behind a Lambda authorizer, with CORS for the configured origins,
 * throttling and access logs.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  logicalIdOf,
  policyStatements,
  statementsOfRole,
  synthesizeStack,
  type TemplateResource,
} from '../support/synth';

describe('GraphqlApi', () => {
  let template: Template;
  let ids: Record<
    'api' | 'graphqlFn' | 'graphqlRole' | 'authorizerFn' | 'authorizerRole' | 'apiKeysTable' | 'uploadsBucket',
    string
  >;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const api = synth.stack.api;
    ids = {
      api: logicalIdOf(api.httpApi),
      graphqlFn: logicalIdOf(api.graphqlFunction.function),
      graphqlRole: logicalIdOf(api.graphqlFunction.role),
      authorizerFn: logicalIdOf(api.authorizerFunction.function),
      authorizerRole: logicalIdOf(api.authorizerFunction.role),
      apiKeysTable: logicalIdOf(synth.stack.jobs.apiKeysTable),
      uploadsBucket: logicalIdOf(synth.stack.storage.uploadsBucket),
    };
  });

  it('is an HTTP API with CORS limited to the allowed origins', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://app.example.com'],
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type']),
      }),
    });
  });

  it('checks the bearer token with a simple-response Lambda authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: ids.api },
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerUri: Match.objectLike({
        'Fn::Join': Match.arrayWith([Match.arrayWith([{ 'Fn::GetAtt': [ids.authorizerFn, 'Arn'] }])]),
      }),
    });
  });

  it.each(['GET /graphql', 'POST /graphql'])('protects %s with the authorizer', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: ids.api },
      RouteKey: routeKey,
      AuthorizationType: 'CUSTOM',
      AuthorizerId: Match.anyValue(),
    });
  });

  it('has no route without authorization', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route', {
      Properties: { ApiId: { Ref: ids.api } },
    }) as Record<string, TemplateResource>;
    expect(Object.keys(routes)).toHaveLength(2);
    for (const route of Object.values(routes)) expect(route.Properties?.AuthorizationType).toBe('CUSTOM');
  });

  it('throttles and access-logs the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: ids.api },
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context\\.requestId') },
    });
  });

  it('runs the GraphQL handler on the Node.js 24 runtime within the 29 s integration limit', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 29,
      Environment: { Variables: Match.objectLike({ PEERSTYLE_JOBS_TABLE: Match.anyValue() }) },
    });
    const fn = template.toJSON().Resources[ids.graphqlFn] as TemplateResource;
    expect(fn.Properties?.Runtime).toBe('nodejs24.x');
  });

  it('lets the authorizer only read items of the API-key table', () => {
    const statements = statementsOfRole(template, ids.authorizerRole).filter((s) =>
      s.Action.some((action) => action.startsWith('dynamodb:')),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toEqual(['dynamodb:GetItem']);
    expect(JSON.stringify(statements[0]?.Resource)).toContain(ids.apiKeysTable);
  });

  it('does not cache authorizer answers, so a revoked key is refused at its next request', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: ids.api },
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  it('refuses an authorizer cache longer than the revocation bound', () => {
    expect(() => synthesizeStack({ authorizerCacheTtl: Duration.minutes(5) })).toThrow(/authorizerCacheTtl/);
  });

  it('lets the GraphQL function only read items of the API-key table', () => {
    const statements = statementsOfRole(template, ids.graphqlRole).filter((s) =>
      JSON.stringify(s.Resource).includes(ids.apiKeysTable),
    );
    expect(statements.flatMap((s) => s.Action)).toEqual(['dynamodb:GetItem']);
  });

  it('gives the GraphQL function no access to the drop folder', () => {
    const statements = statementsOfRole(template, ids.graphqlRole).filter((s) =>
      JSON.stringify(s.Resource).includes(ids.uploadsBucket),
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) expect(JSON.stringify(statement.Resource)).not.toContain('/drop/');
  });

  it('lets the GraphQL function write uploads only by signing forms, without multipart aborts', () => {
    const actions = statementsOfRole(template, ids.graphqlRole)
      .filter((s) => JSON.stringify(s.Resource).includes(ids.uploadsBucket))
      .flatMap((s) => s.Action);
    expect(actions).not.toContain('s3:AbortMultipartUpload');
    expect(actions).not.toContain('s3:DeleteObject');
  });

  it('charges each owner’s requests to counters in a TTL-expired table, and may only update them', () => {
    const stack = synthesizeStack().stack;
    const table = logicalIdOf(stack.jobs.rateLimitsTable);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PEERSTYLE_RATE_LIMITS_TABLE: { Ref: table },
          PEERSTYLE_REQUESTS_PER_MINUTE: '600',
          PEERSTYLE_REQUESTS_PER_SECOND: '20',
        }),
      },
    });
    const statements = statementsOfRole(template, ids.graphqlRole).filter((s) =>
      JSON.stringify(s.Resource).includes(table),
    );
    expect(statements.flatMap((s) => s.Action)).toEqual(['dynamodb:UpdateItem']);
    // Nothing else reads or writes the counters.
    const others = policyStatements(template).filter(
      (s) => JSON.stringify(s.Resource).includes(table) && !JSON.stringify(s.roles).includes(ids.graphqlRole),
    );
    expect(others).toEqual([]);
  });
});
