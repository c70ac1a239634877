/**
 * The HTTP API authorizer against a keys table on dynalite: a working bearer key authorises with its
 * owner in the context; missing, malformed, unknown and revoked keys do not.
 */

import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createDynamoDbDocumentClient, DynamoApiKeyStore } from '../../../functions/adapters/aws';
import { handler } from '../../../functions/handlers/authorizer';
import { HANDLER_ENV } from '../../../functions/handlers/support/handler-env';
import { LOCAL_CREDENTIALS, startDynamo, type DynamoEmulator } from '../../support/emulators';
import { createRecordTables } from '../../contract/records.contract';

let dynamo: DynamoEmulator;
let keys: DynamoApiKeyStore;

beforeAll(async () => {
  dynamo = await startDynamo();
  const tables = await createRecordTables(dynamo.client);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    [HANDLER_ENV.apiKeysTable]: tables.apiKeys,
  });
  keys = new DynamoApiKeyStore({ client: createDynamoDbDocumentClient(dynamo.client), tableName: tables.apiKeys });
});
afterAll(async () => {
  await dynamo?.stop();
});

/** A REQUEST authorizer event (payload v2) with identitySource `$request.header.Authorization`. */
function authorizerEvent(authorization?: string): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:api/$default/POST/graphql',
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: 'POST /graphql',
    rawPath: '/graphql',
    rawQueryString: '',
    cookies: [],
    headers: authorization === undefined ? {} : { authorization },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/graphql', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req',
      routeKey: 'POST /graphql',
      stage: '$default',
      time: '27/Nov/2026:14:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
    pathParameters: {},
    stageVariables: {},
  } as APIGatewayRequestAuthorizerEventV2;
}

test('a working key is authorised with its owner in the context', async () => {
  const { key } = await keys.create('alice', 'laptop');
  expect(await handler(authorizerEvent(`Bearer ${key}`))).toEqual({ isAuthorized: true, context: { owner: 'alice' } });
});

test('a missing, malformed, unknown or revoked key is not authorised', async () => {
  const revoked = await keys.create('alice', 'old');
  await keys.revoke(revoked.id, 'alice');
  const unknown = `psk_${'A'.repeat(43)}`;
  for (const header of [undefined, 'Basic abc', `Bearer ${unknown}`, `Bearer ${revoked.key}`, revoked.key]) {
    expect(await handler(authorizerEvent(header))).toEqual({ isAuthorized: false, context: {} });
  }
});
