/**
 * The WebSocket handlers through a full graphql-ws exchange: $connect, connection_init, ping,
 * subscribe (with the ownership check), stream records from the jobs table, complete, $disconnect,
 * and what revoking the API key of an open connection does to it.
 *
 * Every table (connections, subscriptions with its topic index, keys, jobs) is real, on dynalite over
 * loopback. The API Gateway management API has no local implementation, so it alone is mocked with
 * aws-sdk-client-mock: the mock records what would have been posted to each socket, and can be told
 * to answer GoneException or fail. Stream records are built the way DynamoDB Streams builds them,
 * from the items as stored (AttributeValue form), read before and after each change.
 */

import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyWebsocketEventV2, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import {
  CONNECTION_TTL_SECONDS,
  createDynamoDbDocumentClient,
  DynamoApiKeyStore,
  DynamoJobStore,
  DYNAMO_SUBSCRIPTION_TABLES,
  hashApiKey,
} from '../../../functions/adapters/aws';
import { handler as onConnect } from '../../../functions/handlers/ws-connect';
import { handler as onDisconnect } from '../../../functions/handlers/ws-disconnect';
import { handler as onMessage } from '../../../functions/handlers/ws-message';
import { handler as publish } from '../../../functions/handlers/ws-publisher';
import { HANDLER_ENV } from '../../../functions/handlers/support/handler-env';
import { SUBSCRIPTION_TABLES_SCHEMA } from '../../../infra/lib/subscriptions';
import {
  JOBS_TABLE_NAMES,
  LOCAL_CREDENTIALS,
  startDynamo,
  waitForActiveTable,
  type DynamoEmulator,
} from '../../support/emulators';
import { createRecordTables } from '../../contract/records.contract';
import { at } from '../../support/checked';

const managementApi = mockClient(ApiGatewayManagementApiClient);
let dynamo: DynamoEmulator;
let jobs: DynamoJobStore;
let keys: DynamoApiKeyStore;
let jobsTable: string;
let connectionsTable: string;
let subscriptionsTable: string;
let aliceKey: string;
let warnings: jest.SpyInstance;

async function createSubscriptionTables(): Promise<void> {
  const suffix = randomUUID();
  connectionsTable = `connections-${suffix}`;
  subscriptionsTable = `subscriptions-${suffix}`;
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: connectionsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
    }),
  );
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: subscriptionsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'connectionId', AttributeType: 'S' },
        { AttributeName: 'subscriptionId', AttributeType: 'S' },
        { AttributeName: 'topic', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'connectionId', KeyType: 'HASH' },
        { AttributeName: 'subscriptionId', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byTopic',
          KeySchema: [
            { AttributeName: 'topic', KeyType: 'HASH' },
            { AttributeName: 'connectionId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await waitForActiveTable(dynamo.client, connectionsTable);
  await waitForActiveTable(dynamo.client, subscriptionsTable);
}

beforeAll(async () => {
  dynamo = await startDynamo();
  const [records, jobsTableName] = await Promise.all([createRecordTables(dynamo.client), dynamo.newJobsTable()]);
  jobsTable = jobsTableName;
  await createSubscriptionTables();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    [HANDLER_ENV.jobsTable]: jobsTable,
    [HANDLER_ENV.apiKeysTable]: records.apiKeys,
    [HANDLER_ENV.connectionsTable]: connectionsTable,
    [HANDLER_ENV.subscriptionsTable]: subscriptionsTable,
    [HANDLER_ENV.subscriptionsByTopicIndex]: 'byTopic',
    [HANDLER_ENV.webSocketCallbackUrl]: 'https://abc123.execute-api.us-east-1.amazonaws.com/live',
    // Only signs links (no request is made), so no S3 server is needed.
    [HANDLER_ENV.resultsBucket]: 'results-bucket',
  });
  const client = createDynamoDbDocumentClient(dynamo.client);
  keys = new DynamoApiKeyStore({ client, tableName: records.apiKeys });
  aliceKey = (await keys.create('alice', 'browser')).key;
  jobs = new DynamoJobStore({ client, tableName: jobsTable, ownerIndexName: JOBS_TABLE_NAMES.ownerIndex });
});
afterAll(async () => {
  await dynamo?.stop();
  managementApi.restore();
});
beforeEach(() => {
  managementApi.reset();
  managementApi.on(PostToConnectionCommand).resolves({});
  managementApi.on(DeleteConnectionCommand).resolves({});
  warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  warnings.mockRestore();
});

/** A WebSocket route event as API Gateway sends it to the integration. */
function wsEvent(routeKey: string, connectionId: string, body?: unknown): APIGatewayProxyWebsocketEventV2 {
  return {
    requestContext: {
      routeKey,
      messageId: routeKey === '$default' ? randomUUID() : undefined,
      eventType: routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
      extendedRequestId: 'ext',
      requestTime: '27/Nov/2026:14:00:00 +0000',
      messageDirection: 'IN',
      stage: 'live',
      connectedAt: 1_795_000_000_000,
      requestTimeEpoch: 1_795_000_000_000,
      requestId: 'req',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      connectionId,
      apiId: 'abc123',
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    isBase64Encoded: false,
  } as APIGatewayProxyWebsocketEventV2;
}

const send = (connectionId: string, message: unknown) => onMessage(wsEvent('$default', connectionId, message));

/** A graphql-ws message as posted to a client; the payload's shape depends on the type. */
interface PostedMessage {
  type: string;
  id?: string;
  payload?: unknown;
}
/** The payload of an `error` message: GraphQL errors. */
type ErrorPayload = Array<{ message: string; extensions: { code: string } }>;
/** The payload of a `next` message for the jobProgress subscription. */
type JobProgressPayload = { data: { jobProgress: { job: { status: string } } } };

/** Messages posted to `connectionId` since the last reset, decoded. */
function posted(connectionId: string): PostedMessage[] {
  return managementApi
    .commandCalls(PostToConnectionCommand)
    .filter((call) => call.args[0].input.ConnectionId === connectionId)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Data as Uint8Array)) as PostedMessage);
}

const closedWith = (code: number): boolean => warnings.mock.calls.some((args) => String(args[0]).includes(` ${code} `));

async function scan(table: string): Promise<Array<Record<string, AttributeValue>>> {
  return (await dynamo.client.send(new ScanCommand({ TableName: table }))).Items ?? [];
}

async function storedJob(id: string): Promise<Record<string, AttributeValue>> {
  const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: jobsTable, Key: { pk: { S: id } } }));
  return Item!;
}

let sequence = 100;
/** A MODIFY/INSERT record as DynamoDB Streams delivers it (NEW_AND_OLD_IMAGES). */
function streamRecord(
  newImage: Record<string, AttributeValue>,
  oldImage?: Record<string, AttributeValue>,
): DynamoDBRecord {
  sequence += 1;
  return {
    eventID: randomUUID(),
    eventName: oldImage === undefined ? 'INSERT' : 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1_795_000_000,
      Keys: { pk: newImage.pk },
      NewImage: newImage,
      ...(oldImage !== undefined && { OldImage: oldImage }),
      SequenceNumber: String(sequence),
      SizeBytes: 512,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: `arn:aws:dynamodb:us-east-1:123456789012:table/${jobsTable}/stream/2026-11-27T00:00:00.000`,
  } as DynamoDBRecord;
}

const JOB_PROGRESS = 'subscription($id: ID!) { jobProgress(id: $id) { type job { id status progress } } }';

async function openAuthorised(key = aliceKey): Promise<string> {
  const connectionId = `conn-${randomUUID()}`;
  await onConnect(wsEvent('$connect', connectionId));
  await send(connectionId, { type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
  return connectionId;
}

const hasRows = async (table: string, connectionId: string): Promise<boolean> =>
  (await scan(table)).some((item) => item.connectionId?.S === connectionId);

const deletedConnections = (): string[] =>
  managementApi.commandCalls(DeleteConnectionCommand).map((call) => call.args[0].input.ConnectionId as string);

test("the handlers use the stack's table key and index names", () => {
  expect(DYNAMO_SUBSCRIPTION_TABLES).toEqual(SUBSCRIPTION_TABLES_SCHEMA);
});

test('$connect stores a connection row with a TTL; connection_init stores the owner and key hash, never the key', async () => {
  const connectionId = 'conn-init';
  const before = Math.floor(Date.now() / 1000);
  await onConnect(wsEvent('$connect', connectionId));
  const row = at(
    (await scan(connectionsTable)).filter((item) => item.connectionId?.S === connectionId),
    0,
  );
  expect(Number(row.expiresAt?.N)).toBeGreaterThanOrEqual(before + CONNECTION_TTL_SECONDS);
  expect(row.owner).toBeUndefined();

  await send(connectionId, { type: 'connection_init', payload: { authorization: `Bearer ${aliceKey}` } });
  expect(posted(connectionId)).toEqual([{ type: 'connection_ack' }]);
  const authorised = at(
    (await scan(connectionsTable)).filter((item) => item.connectionId?.S === connectionId),
    0,
  );
  expect(authorised.owner).toEqual({ S: 'alice' });
  expect(authorised.keyHash).toEqual({ S: hashApiKey(aliceKey) });
  expect(JSON.stringify(await scan(connectionsTable))).not.toContain(aliceKey);

  await send(connectionId, { type: 'ping' });
  expect(posted(connectionId)).toEqual([{ type: 'connection_ack' }, { type: 'pong' }]);
});

test('a subscribe before connection_init closes the socket with 4401', async () => {
  const connectionId = 'conn-early';
  await onConnect(wsEvent('$connect', connectionId));
  await send(connectionId, { id: '1', type: 'subscribe', payload: { query: 'subscription { myJobs { type } }' } });
  expect(closedWith(4401)).toBe(true);
  expect(managementApi.commandCalls(DeleteConnectionCommand)[0]?.args[0].input.ConnectionId).toBe(connectionId);
  expect((await scan(connectionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);

  warnings.mockClear();
  await onConnect(wsEvent('$connect', 'conn-early-complete'));
  await send('conn-early-complete', { id: '1', type: 'complete' });
  expect(closedWith(4401)).toBe(true);
});

test('a wrong key closes with 4403; malformed and unexpected messages close with 4400', async () => {
  await onConnect(wsEvent('$connect', 'conn-bad-key'));
  await send('conn-bad-key', { type: 'connection_init', payload: { apiKey: `psk_${'x'.repeat(43)}` } });
  expect(closedWith(4403)).toBe(true);
  expect(posted('conn-bad-key')).toEqual([]);

  const connectionId = await openAuthorised();
  await send(connectionId, 'not json');
  expect(closedWith(4400)).toBe(true);
  warnings.mockClear();
  const other = await openAuthorised();
  await send(other, { id: '1', type: 'next', payload: { data: null } });
  expect(closedWith(4400)).toBe(true);
});

test("subscribing to another owner's job answers an error and stores nothing", async () => {
  const connectionId = await openAuthorised();
  const bobs = (await jobs.create({ owner: 'bob', kind: 'STYLIZE', input: {} })).job;
  await send(connectionId, {
    id: 's1',
    type: 'subscribe',
    payload: { query: JOB_PROGRESS, variables: { id: bobs.id } },
  });
  const error = at(
    posted(connectionId).filter((message) => message.type === 'error'),
    0,
  );
  expect(error.id).toBe('s1');
  expect((error.payload as ErrorPayload)[0]?.extensions.code).toBe('NOT_FOUND');
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);
});

test('an invalid document answers an error with BAD_REQUEST and stores nothing', async () => {
  const connectionId = await openAuthorised();
  await send(connectionId, { id: 's1', type: 'subscribe', payload: { query: 'subscription { nope }' } });
  const error = at(
    posted(connectionId).filter((message) => message.type === 'error'),
    0,
  );
  expect((error.payload as ErrorPayload)[0]?.extensions.code).toBe('BAD_REQUEST');
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);
});

test('the shared rules: a query or introspection is refused, and no message suggests a field', async () => {
  const connectionId = await openAuthorised();
  const documents = ['{ models { id } }', '{ __schema { types { name } } }', 'subscription { myJobs { typ } }'];
  for (const [index, query] of documents.entries()) {
    await send(connectionId, { id: `s${index}`, type: 'subscribe', payload: { query } });
  }
  const errors = posted(connectionId).filter((message) => message.type === 'error');
  expect(errors.map((error) => error.id)).toEqual(['s0', 's1', 's2']);
  const messages = errors.map((error) => (error.payload as ErrorPayload).map((e) => e.message).join(' '));
  expect(messages[0]).toBe('Only subscriptions are served over the WebSocket; send queries and mutations over HTTP.');
  expect(messages[1]).toMatch(/introspection has been disabled/);
  expect(messages[2]).toBe('Cannot query field "typ" on type "JobEvent".');
  for (const error of errors) expect((error.payload as ErrorPayload)[0]?.extensions.code).toBe('BAD_REQUEST');
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);
});

test('full exchange: snapshot, stream-driven next, complete at the terminal status, client complete, disconnect', async () => {
  const connectionId = await openAuthorised();
  const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;

  await send(connectionId, {
    id: 'one',
    type: 'subscribe',
    payload: { query: JOB_PROGRESS, variables: { id: job.id } },
  });
  await send(connectionId, {
    id: 'all',
    type: 'subscribe',
    payload: { query: 'subscription { myJobs { type job { id status } } }' },
  });
  expect(posted(connectionId).slice(1)).toEqual([
    {
      id: 'one',
      type: 'next',
      payload: { data: { jobProgress: { type: 'SNAPSHOT', job: { id: job.id, status: 'QUEUED', progress: 0 } } } },
    },
  ]);
  const topics = (await scan(subscriptionsTable))
    .filter((item) => item.connectionId?.S === connectionId)
    .map((item) => item.topic?.S)
    .sort();
  expect(topics).toEqual([`job#${job.id}`, 'owner#alice']);

  managementApi.resetHistory();
  const queued = await storedJob(job.id);
  await jobs.transition(job.id, 'QUEUED', 'RUNNING');
  const running = await storedJob(job.id);
  const response = await publish({ Records: [streamRecord(running, queued)] } as DynamoDBStreamEvent);
  expect(response.batchItemFailures).toEqual([]);
  expect(posted(connectionId)).toEqual([
    {
      id: 'one',
      type: 'next',
      payload: {
        data: { jobProgress: { type: 'STATUS_CHANGED', job: { id: job.id, status: 'RUNNING', progress: 0 } } },
      },
    },
    {
      id: 'all',
      type: 'next',
      payload: { data: { myJobs: { type: 'STATUS_CHANGED', job: { id: job.id, status: 'RUNNING' } } } },
    },
  ]);

  managementApi.resetHistory();
  await jobs.transition(job.id, 'RUNNING', 'SUCCEEDED');
  await publish({ Records: [streamRecord(await storedJob(job.id), running)] } as DynamoDBStreamEvent);
  expect(posted(connectionId).map((message) => [message.id, message.type])).toEqual([
    ['one', 'next'],
    ['one', 'complete'],
    ['all', 'next'],
  ]);
  const remaining = (await scan(subscriptionsTable)).filter((item) => item.connectionId?.S === connectionId);
  expect(remaining.map((item) => item.subscriptionId?.S)).toEqual(['all']);

  await send(connectionId, { id: 'all', type: 'complete' });
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);

  await send(connectionId, { id: 'again', type: 'subscribe', payload: { query: 'subscription { myJobs { type } }' } });
  await onDisconnect(wsEvent('$disconnect', connectionId));
  expect((await scan(connectionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);
});

test('a stored preview reaches subscribers as PREVIEW, with a signed link to it in the results bucket', async () => {
  const connectionId = await openAuthorised();
  const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
  await jobs.transition(job.id, 'QUEUED', 'RUNNING');
  await send(connectionId, {
    id: 'p',
    type: 'subscribe',
    payload: {
      query: 'subscription($id: ID!) { jobProgress(id: $id) { type job { stage preview { url width height } } } }',
      variables: { id: job.id },
    },
  });
  const step = async (update: Parameters<DynamoJobStore['updateProgress']>[1]): Promise<PostedMessage[]> => {
    managementApi.resetHistory();
    const before = await storedJob(job.id);
    await jobs.updateProgress(job.id, update);
    await publish({ Records: [streamRecord(await storedJob(job.id), before)] } as DynamoDBStreamEvent);
    return posted(connectionId);
  };
  type PreviewPayload = {
    data: { jobProgress: { type: string; job: { stage: string; preview: { url: string; width: number } | null } } };
  };
  const encode = at(await step({ progress: 0.1, stage: 'encode' }), 0);
  expect((encode.payload as PreviewPayload).data.jobProgress).toEqual({
    type: 'PROGRESS',
    job: { stage: 'encode', preview: null },
  });
  const preview = { key: `out/${job.id}.preview.jpg`, width: 512, height: 341, contentType: 'image/jpeg' };
  const shown = at(await step({ progress: 0.2, stage: 'preview', preview }), 0);
  const event = (shown.payload as PreviewPayload).data.jobProgress;
  expect(event.type).toBe('PREVIEW');
  expect(event.job.preview).toMatchObject({ width: 512, height: 341 });
  const url = new URL(event.job.preview!.url);
  expect(`${url.hostname}${url.pathname}`).toMatch(new RegExp(`results-bucket.*/out/${job.id}\\.preview\\.jpg$`));
  expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  // Later progress keeps the preview, and is PROGRESS again.
  const later = at(await step({ progress: 0.5, stage: 'transfer' }), 0);
  expect((later.payload as PreviewPayload).data.jobProgress.type).toBe('PROGRESS');
  expect((later.payload as PreviewPayload).data.jobProgress.job.preview).toMatchObject({ width: 512 });
});

test('subscribing to a finished job sends its state and completes at once, storing nothing', async () => {
  const connectionId = await openAuthorised();
  const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
  await jobs.transition(job.id, 'QUEUED', 'CANCELLED');
  await send(connectionId, { id: 'x', type: 'subscribe', payload: { query: JOB_PROGRESS, variables: { id: job.id } } });
  expect(
    posted(connectionId)
      .slice(1)
      .map((message) => message.type),
  ).toEqual(['next', 'complete']);
  expect((at(posted(connectionId), 1).payload as JobProgressPayload).data.jobProgress.job.status).toBe('CANCELLED');
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === connectionId)).toBe(false);
});

test('a gone connection is removed; a failed post reports that record in batchItemFailures', async () => {
  const gone = await openAuthorised();
  const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
  await send(gone, { id: 'g', type: 'subscribe', payload: { query: JOB_PROGRESS, variables: { id: job.id } } });
  managementApi
    .on(PostToConnectionCommand, { ConnectionId: gone })
    .rejects(new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } }));
  const before = await storedJob(job.id);
  await jobs.transition(job.id, 'QUEUED', 'RUNNING');
  const after = await storedJob(job.id);
  expect((await publish({ Records: [streamRecord(after, before)] } as DynamoDBStreamEvent)).batchItemFailures).toEqual(
    [],
  );
  expect((await scan(connectionsTable)).some((item) => item.connectionId?.S === gone)).toBe(false);
  expect((await scan(subscriptionsTable)).some((item) => item.connectionId?.S === gone)).toBe(false);

  const failing = await openAuthorised();
  await send(failing, { id: 'f', type: 'subscribe', payload: { query: 'subscription { myJobs { type } }' } });
  managementApi
    .on(PostToConnectionCommand, { ConnectionId: failing })
    .rejects(Object.assign(new Error('Internal'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const first = streamRecord(after, before);
  const second = streamRecord(after, before);
  const result = await publish({ Records: [first, second] } as DynamoDBStreamEvent);
  errors.mockRestore();
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: first.dynamodb!.SequenceNumber }]);
});

test('records that are not jobs (idempotency claims, TTL removals) are ignored', async () => {
  const claim = { pk: { S: 'idem#alice#k1' }, jobId: { S: 'j' }, snapshot: { S: '{}' } };
  const removal = { ...streamRecord(claim), eventName: 'REMOVE' } as DynamoDBRecord;
  const result = await publish({ Records: [streamRecord(claim), removal] } as DynamoDBStreamEvent);
  expect(result.batchItemFailures).toEqual([]);
  expect(managementApi.commandCalls(PostToConnectionCommand)).toHaveLength(0);
});

describe('a revoked API key', () => {
  test('refuses the next subscribe with UNAUTHENTICATED, closes with 4403 and stores nothing', async () => {
    const leaked = await keys.create('alice', 'leaked');
    const connectionId = await openAuthorised(leaked.key);
    expect(posted(connectionId)).toEqual([{ type: 'connection_ack' }]);
    await keys.revoke(leaked.id, 'alice');

    await send(connectionId, { id: 's1', type: 'subscribe', payload: { query: 'subscription { myJobs { type } }' } });
    expect(posted(connectionId)[1]).toEqual({
      id: 's1',
      type: 'error',
      payload: [{ message: 'The API key is unknown or revoked.', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(closedWith(4403)).toBe(true);
    expect(deletedConnections()).toEqual([connectionId]);
    expect(await hasRows(connectionsTable, connectionId)).toBe(false);
    expect(await hasRows(subscriptionsTable, connectionId)).toBe(false);
  });

  test('stops deliveries to its connection and removes its rows; a connection with another key still receives', async () => {
    const leaked = await keys.create('alice', 'leaked');
    const revokedConnection = await openAuthorised(leaked.key);
    const keptConnection = await openAuthorised();
    const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
    const subscribeAll = { type: 'subscribe', payload: { query: 'subscription { myJobs { type job { id } } }' } };
    await send(revokedConnection, {
      id: 'one',
      type: 'subscribe',
      payload: { query: JOB_PROGRESS, variables: { id: job.id } },
    });
    await send(revokedConnection, { id: 'all', ...subscribeAll });
    await send(keptConnection, { id: 'all', ...subscribeAll });

    // Before the revocation both connections receive the change.
    const queued = await storedJob(job.id);
    await jobs.transition(job.id, 'QUEUED', 'RUNNING');
    const running = await storedJob(job.id);
    managementApi.resetHistory();
    await publish({ Records: [streamRecord(running, queued)] } as DynamoDBStreamEvent);
    expect(posted(revokedConnection).map((message) => message.id)).toEqual(['one', 'all']);
    expect(posted(keptConnection).map((message) => message.id)).toEqual(['all']);

    await keys.revoke(leaked.id, 'alice');
    managementApi.resetHistory();
    const lookups = jest.spyOn(DynamoApiKeyStore.prototype, 'ownerOfKeyHash');
    await jobs.updateProgress(job.id, { progress: 0.25, stage: 'quarter' });
    const quarter = await storedJob(job.id);
    await jobs.updateProgress(job.id, { progress: 0.5, stage: 'half' });
    const half = await storedJob(job.id);
    const response = await publish({
      Records: [streamRecord(quarter, running), streamRecord(half, quarter)],
    } as DynamoDBStreamEvent);
    const lookedUp = lookups.mock.calls.map(([keyHash]) => keyHash);
    lookups.mockRestore();

    expect(response.batchItemFailures).toEqual([]);
    expect(posted(revokedConnection)).toEqual([]);
    expect(closedWith(4403)).toBe(true);
    expect(deletedConnections()).toEqual([revokedConnection]);
    expect(await hasRows(connectionsTable, revokedConnection)).toBe(false);
    expect(await hasRows(subscriptionsTable, revokedConnection)).toBe(false);
    expect(posted(keptConnection).map((message) => [message.id, message.type])).toEqual([
      ['all', 'next'],
      ['all', 'next'],
    ]);
    expect(await hasRows(subscriptionsTable, keptConnection)).toBe(true);
    // One lookup per distinct key in the batch, however many records and subscriptions share it.
    expect(lookedUp.sort()).toEqual([hashApiKey(aliceKey), hashApiKey(leaked.key)].sort());
  });

  test('a subscription stored without a key hash cannot be re-verified and is treated as revoked', async () => {
    const connectionId = `conn-${randomUUID()}`;
    const expiresAt = { N: String(Math.floor(Date.now() / 1000) + 600) };
    await dynamo.client.send(
      new PutItemCommand({
        TableName: connectionsTable,
        Item: { connectionId: { S: connectionId }, owner: { S: 'alice' }, connectedAt: { S: 'x' }, expiresAt },
      }),
    );
    await dynamo.client.send(
      new PutItemCommand({
        TableName: subscriptionsTable,
        Item: {
          connectionId: { S: connectionId },
          subscriptionId: { S: 'all' },
          topic: { S: 'owner#alice' },
          owner: { S: 'alice' },
          query: { S: 'subscription { myJobs { type } }' },
          expiresAt,
        },
      }),
    );
    const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
    const queued = await storedJob(job.id);
    await jobs.transition(job.id, 'QUEUED', 'RUNNING');
    await publish({ Records: [streamRecord(await storedJob(job.id), queued)] } as DynamoDBStreamEvent);

    expect(posted(connectionId)).toEqual([]);
    expect(deletedConnections()).toContain(connectionId);
    expect(await hasRows(connectionsTable, connectionId)).toBe(false);
    expect(await hasRows(subscriptionsTable, connectionId)).toBe(false);
  });
});
