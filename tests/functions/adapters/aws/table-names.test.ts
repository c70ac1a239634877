/**
 * The DynamoJobStore and its tests name the jobs table's keys and index without importing
 * infra/lib/jobs.ts (which loads aws-cdk-lib); this reads that file's text and checks the names agree,
 * so a renamed attribute in the stack fails here instead of at deploy time.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOBS_TABLE_NAMES } from '../../../support/emulators';

test('JOBS_TABLE_SCHEMA in the stack matches the names the DynamoJobStore and its tests use', () => {
  const source = readFileSync(join(__dirname, '../../../../infra/lib/jobs.ts'), 'utf8');
  const block = /JOBS_TABLE_SCHEMA = \{([^}]*)\}/.exec(source)?.[1] ?? '';
  const declared = Object.fromEntries([...block.matchAll(/(\w+):\s*'([^']*)'/g)].map((m) => [m[1], m[2]]));
  expect(declared).toEqual(JOBS_TABLE_NAMES);
});

test('RATE_LIMITS_TABLE_SCHEMA in the stack matches the names the DynamoRequestLimiter uses', async () => {
  const { DYNAMO_RATE_LIMITS_TABLE } = await import('../../../../functions/adapters/aws');
  const source = readFileSync(join(__dirname, '../../../../infra/lib/jobs.ts'), 'utf8');
  const block = /RATE_LIMITS_TABLE_SCHEMA = \{([^}]*)\}/.exec(source)?.[1] ?? '';
  const declared = Object.fromEntries([...block.matchAll(/(\w+):\s*'([^']*)'/g)].map((m) => [m[1], m[2]]));
  expect(declared).toEqual(DYNAMO_RATE_LIMITS_TABLE);
});

test('the dispatch mark the stack filters the jobs stream on is the one the DynamoJobStore writes', async () => {
  const { STREAM_DISPATCH } = await import('../../../../functions/adapters/aws');
  const source = readFileSync(join(__dirname, '../../../../infra/lib/job-dispatch.ts'), 'utf8');
  const block = /DISPATCH_MARK = \{([^}]*)\}/.exec(source)?.[1] ?? '';
  const declared = Object.fromEntries([...block.matchAll(/(\w+):\s*'([^']*)'/g)].map((m) => [m[1], m[2]]));
  expect(declared).toEqual({ attribute: 'dispatch', value: STREAM_DISPATCH });
});

test('finished jobs get the TTL attribute when a retention is set; running ones never do', async () => {
  // Uses dynalite, like the contract run, to read the raw item the store wrote.
  const { startDynamo } = await import('../../../support/emulators');
  const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const { createDynamoDbDocumentClient, DynamoJobStore } = await import('../../../../functions/adapters/aws');
  const dynamo = await startDynamo();
  try {
    const tableName = await dynamo.newJobsTable();
    const client = createDynamoDbDocumentClient(dynamo.client);
    const store = new DynamoJobStore({ client, tableName, retentionSeconds: 86_400 });
    const { job } = await store.create({ owner: 'alice', kind: 'STYLIZE', input: null });
    const raw = async () => (await client.send(new GetCommand({ TableName: tableName, Key: { pk: job.id } }))).Item;
    expect((await raw())?.[JOBS_TABLE_NAMES.ttlAttribute]).toBeUndefined();
    const cancelled = await store.requestCancel(job.id);
    expect((await raw())?.[JOBS_TABLE_NAMES.ttlAttribute]).toBe(
      Math.floor(Date.parse(cancelled.finishedAt!) / 1000) + 86_400,
    );
  } finally {
    await dynamo.stop();
  }
});
