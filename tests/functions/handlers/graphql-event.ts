/**
 * A POST /graphql event as API Gateway builds it for the GraphQL function: the authorizer's
 * simple-response context (`owner`) when the request passed it, and an Authorization header when given.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export function graphqlEvent(body: unknown, auth: { owner?: string; bearer?: string }): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { 'content-type': 'application/json', host: 'api.example.com' };
  if (auth.bearer !== undefined) headers.authorization = `Bearer ${auth.bearer}`;
  return {
    version: '2.0',
    routeKey: 'POST /graphql',
    rawPath: '/graphql',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/graphql', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req-1',
      routeKey: 'POST /graphql',
      stage: '$default',
      time: '27/Nov/2026:14:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
      ...(auth.owner !== undefined && { authorizer: { lambda: { owner: auth.owner } } }),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}
