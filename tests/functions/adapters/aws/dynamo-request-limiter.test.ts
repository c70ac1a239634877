/**
 * `DynamoRequestLimiter` against dynalite: fixed-window counters per owner, shared by every Lambda
 * instance through conditional updates, so concurrent requests cannot overshoot the budget.
 */

import { randomUUID } from 'node:crypto';
import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  createDynamoDbDocumentClient,
  DYNAMO_RATE_LIMITS_TABLE,
  DynamoRequestLimiter,
} from '../../../../functions/adapters/aws';
import { ErrorCode, isDomainError } from '../../../../functions/core';
import { startDynamo, waitForActiveTable, type DynamoEmulator } from '../../../support/emulators';

let dynamo: DynamoEmulator;
let tableName: string;

beforeAll(async () => {
  dynamo = await startDynamo();
  tableName = `rate-${randomUUID()}`;
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: DYNAMO_RATE_LIMITS_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: DYNAMO_RATE_LIMITS_TABLE.partitionKey, KeyType: 'HASH' }],
    }),
  );
  await waitForActiveTable(dynamo.client, tableName);
});
afterAll(async () => {
  await dynamo?.stop();
});

function limiter(now: { t: number }, perMinute: number, perSecond: number): DynamoRequestLimiter {
  return new DynamoRequestLimiter({
    client: createDynamoDbDocumentClient(dynamo.client),
    tableName,
    perMinute,
    perSecond,
    clock: () => now.t,
  });
}

async function outcome(promise: void | Promise<void>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (isDomainError(error)) return `${error.code} ${JSON.stringify(error.details)} ${error.message}`;
    throw error;
  }
}

test('the per-minute budget is shared, refuses with RATE_LIMITED and the wait, and renews with the next window', async () => {
  const now = { t: Date.UTC(2026, 11, 2, 10, 0, 15) };
  // Two limiters on one table: two Lambda instances.
  const [a, b] = [limiter(now, 3, 100), limiter(now, 3, 100)];
  const owner = `alice-${randomUUID()}`;
  expect(await outcome(a.take(owner))).toBe('ok');
  now.t += 1000;
  expect(await outcome(b.take(owner))).toBe('ok');
  now.t += 1000;
  expect(await outcome(a.take(owner))).toBe('ok');
  now.t += 1000;
  // 10:00:18: the window ends at 10:01:00.
  expect(await outcome(b.take(owner))).toBe(
    `${ErrorCode.RATE_LIMITED} {"retryAfterSeconds":42} Too many requests: the limit is 3 per minute. Retry in 42 s.`,
  );
  expect(await outcome(a.take(`bob-${randomUUID()}`))).toBe('ok');
  now.t = Date.UTC(2026, 11, 2, 10, 1, 0);
  expect(await outcome(a.take(owner))).toBe('ok');
});

test('the per-second budget caps bursts within the minute', async () => {
  const now = { t: Date.UTC(2026, 11, 2, 10, 5, 7, 400) };
  const limit = limiter(now, 100, 2);
  const owner = `carol-${randomUUID()}`;
  expect(await outcome(limit.take(owner))).toBe('ok');
  expect(await outcome(limit.take(owner))).toBe('ok');
  expect(await outcome(limit.take(owner))).toMatch(/^RATE_LIMITED \{"retryAfterSeconds":1\} .*2 per second/);
  now.t += 600;
  expect(await outcome(limit.take(owner))).toBe('ok');
});

test('concurrent requests never overshoot the budget', async () => {
  const now = { t: Date.UTC(2026, 11, 2, 10, 10, 0) };
  const owner = `dave-${randomUUID()}`;
  const results = await Promise.all(Array.from({ length: 12 }, () => outcome(limiter(now, 5, 100).take(owner))));
  expect(results.filter((r) => r === 'ok')).toHaveLength(5);
  expect(results.filter((r) => r.startsWith('RATE_LIMITED'))).toHaveLength(7);
});

test('counter items carry an expiry for DynamoDB TTL, shortly after their window', async () => {
  const now = { t: Date.UTC(2026, 11, 2, 10, 20, 30) };
  const owner = `erin-${randomUUID()}`;
  await limiter(now, 5, 5).take(owner);
  const minuteStart = Date.UTC(2026, 11, 2, 10, 20, 0) / 1000;
  const { Item } = await dynamo.client.send(
    new GetItemCommand({ TableName: tableName, Key: { pk: { S: `${owner}#m#${minuteStart}` } } }),
  );
  expect(Item?.count).toEqual({ N: '1' });
  const expiresAt = Number(Item?.[DYNAMO_RATE_LIMITS_TABLE.ttlAttribute]?.N);
  expect(expiresAt).toBeGreaterThanOrEqual(minuteStart + 60);
  expect(expiresAt).toBeLessThanOrEqual(minuteStart + 60 + 300);
});
