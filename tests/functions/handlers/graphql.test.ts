/**
 * The GraphQL and authorizer Lambda handlers, invoked with API Gateway HTTP API (payload v2) events
 * against dynalite on loopback. The handlers build their adapters from the same environment variables
 * the stack sets; the SDK's `AWS_ENDPOINT_URL_DYNAMODB` points them at dynalite. No S3 or SQS call is
 * made by the operations exercised here, so no other server is started. SageMaker has no local
 * implementation, so its client is replaced with aws-sdk-client-mock to observe StopTrainingJob.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SageMakerClient, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoDbDocumentClient, DynamoApiKeyStore, DynamoJobStore } from '../../../functions/adapters/aws';
import { DEFAULT_MODEL_ID } from '../../../functions/core';
import { HANDLER_ENV } from '../../../functions/handlers/support/handler-env';
import { ENV } from '../../../infra/lib/handlers';
import { JOBS_TABLE_NAMES, LOCAL_CREDENTIALS, startDynamo, type DynamoEmulator } from '../../support/emulators';
import { createRecordTables } from '../../contract/records.contract';
import { graphqlEvent } from './graphql-event';

let dynamo: DynamoEmulator;
let jobs: DynamoJobStore;
let aliceKey: string;
let revokedKey: string;

beforeAll(async () => {
  dynamo = await startDynamo();
  const [tables, jobsTable] = await Promise.all([createRecordTables(dynamo.client), dynamo.newJobsTable()]);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    [HANDLER_ENV.jobsTable]: jobsTable,
    [HANDLER_ENV.jobsByOwnerIndex]: JOBS_TABLE_NAMES.ownerIndex,
    [HANDLER_ENV.apiKeysTable]: tables.apiKeys,
    [HANDLER_ENV.catalogTable]: tables.catalog,
    // Never called by these operations; an unroutable address makes an accidental call fail loudly.
    [HANDLER_ENV.stylizeQueueUrl]: 'http://127.0.0.1:9/000000000000/stylize',
    [HANDLER_ENV.trainingJobPrefix]: 'peerstyle-',
    [HANDLER_ENV.trainingLauncherFunction]: 'peerstyle-training-launcher',
  });
  const client = createDynamoDbDocumentClient(dynamo.client);
  const keys = new DynamoApiKeyStore({ client, tableName: tables.apiKeys });
  aliceKey = (await keys.create('alice', 'laptop')).key;
  const revoked = await keys.create('alice', 'old');
  await keys.revoke(revoked.id, 'alice');
  revokedKey = revoked.key;
  jobs = new DynamoJobStore({ client, tableName: jobsTable, ownerIndexName: JOBS_TABLE_NAMES.ownerIndex });
});
afterAll(async () => {
  await dynamo?.stop();
});

/** A GraphQL response body as these tests read it: the fields they select, and the error extensions. */
interface GraphQLBody {
  data: Record<string, unknown>;
  errors: Array<{ message: string; extensions: Record<string, unknown> }>;
}

async function invoke(event: APIGatewayProxyEventV2): Promise<{ status: number; body: GraphQLBody }> {
  const { handler } = await import('../../../functions/handlers/graphql');
  const result = (await handler(event as never, {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') as GraphQLBody };
}

test('the handler reads the variable names the stack sets', () => {
  for (const [name, variable] of Object.entries(HANDLER_ENV)) {
    expect(ENV[name as keyof typeof ENV]).toBe(variable);
  }
});

test('a query runs for the owner named by the authorizer context', async () => {
  const mine = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
  const theirs = (await jobs.create({ owner: 'bob', kind: 'STYLIZE', input: {} })).job;
  const response = await invoke(
    graphqlEvent(
      {
        query:
          'query($a: ID!, $b: ID!) { models { id builtIn } mine: job(id: $a) { id status } theirs: job(id: $b) { id } }',
        variables: { a: mine.id, b: theirs.id },
      },
      { owner: 'alice' },
    ),
  );
  expect(response.status).toBe(200);
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.models).toEqual([{ id: DEFAULT_MODEL_ID, builtIn: true }]);
  expect(response.body.data.mine).toEqual({ id: mine.id, status: 'QUEUED' });
  expect(response.body.data.theirs).toBeNull();
});

test('the built-in model is listed with its bundled manifest’s name, version and date', async () => {
  const manifest = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', '..', 'models', 'default', 'manifest.json'), 'utf8'),
  ) as { name: string; version: string; createdAt: string };
  const response = await invoke(
    graphqlEvent({ query: '{ models { id name version packageVersion builtIn createdAt } }' }, { owner: 'alice' }),
  );
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.models).toEqual([
    {
      id: DEFAULT_MODEL_ID,
      name: manifest.name,
      version: 1,
      packageVersion: manifest.version,
      builtIn: true,
      createdAt: manifest.createdAt,
    },
  ]);
});

test('a mutation changes the table; without the authorizer the bearer key identifies the owner', async () => {
  const job = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
  const response = await invoke(
    graphqlEvent(
      { query: 'mutation($id: ID!) { cancelJob(id: $id) { id status } }', variables: { id: job.id } },
      { bearer: aliceKey },
    ),
  );
  expect(response.status).toBe(200);
  expect(response.body.data.cancelJob).toEqual({ id: job.id, status: 'CANCELLED' });
  expect((await jobs.get(job.id))?.status).toBe('CANCELLED');
});

test('a revoked or missing bearer key without an authorizer context is 401 UNAUTHENTICATED', async () => {
  for (const bearer of [revokedKey, undefined]) {
    const response = await invoke(graphqlEvent({ query: '{ models { id } }' }, bearer === undefined ? {} : { bearer }));
    expect(response.status).toBe(401);
    expect(response.body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  }
});

test('a malformed query is 400 with code BAD_REQUEST', async () => {
  const response = await invoke(graphqlEvent({ query: '{ models { id ' }, { owner: 'alice' }));
  expect(response.status).toBe(400);
  expect(response.body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  expect(response.body.errors[0]?.extensions.reason).toBe('GRAPHQL_PARSE_FAILED');
});

test('the shared rules: introspection and subscriptions are refused, and no message suggests a field', async () => {
  const introspection = await invoke(
    graphqlEvent({ query: '{ __schema { queryType { name } } }' }, { owner: 'alice' }),
  );
  expect(introspection.status).toBe(400);
  expect(introspection.body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  expect(introspection.body.errors.map((e) => e.message).join(' ')).toMatch(/introspection has been disabled/);
  const subscription = await invoke(graphqlEvent({ query: 'subscription { myJobs { type } }' }, { owner: 'alice' }));
  expect(subscription.status).toBe(400);
  expect(subscription.body.errors[0]?.message).toMatch(/^Subscriptions are served over the WebSocket/);
  const misspelt = await invoke(graphqlEvent({ query: '{ models { nam } }' }, { owner: 'alice' }));
  expect(misspelt.body.errors[0]?.message).toBe('Cannot query field "nam" on type "Model".');
});

test('cancelling a RUNNING training stops its SageMaker run; cancelling a stylize job calls no SageMaker', async () => {
  const sageMaker = mockClient(SageMakerClient);
  sageMaker.on(StopTrainingJobCommand).resolves({});
  try {
    const training = (await jobs.create({ owner: 'alice', kind: 'TRAIN', input: {} })).job;
    await jobs.transition(training.id, 'QUEUED', 'RUNNING');
    const stylize = (await jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} })).job;
    await jobs.transition(stylize.id, 'QUEUED', 'RUNNING');
    const cancel = 'mutation($id: ID!) { cancelJob(id: $id) { id status } }';

    const response = await invoke(graphqlEvent({ query: cancel, variables: { id: training.id } }, { owner: 'alice' }));
    expect(response.body.errors).toBeUndefined();
    // The job stays RUNNING until SageMaker reports the run Stopped (the training events function).
    expect(response.body.data.cancelJob).toEqual({ id: training.id, status: 'RUNNING' });
    expect((await jobs.get(training.id))?.cancelRequested).toBe(true);
    expect(sageMaker.commandCalls(StopTrainingJobCommand).map((call) => call.args[0].input)).toEqual([
      { TrainingJobName: `peerstyle-${training.id}` },
    ]);

    await invoke(graphqlEvent({ query: cancel, variables: { id: stylize.id } }, { owner: 'alice' }));
    expect((await jobs.get(stylize.id))?.cancelRequested).toBe(true);
    expect(sageMaker.commandCalls(StopTrainingJobCommand)).toHaveLength(1);
  } finally {
    sageMaker.restore();
  }
});
