/**
 * How `DynamoApiKeyStore` keeps keys, beyond the record-port contract it shares with SQLite: against
 * dynalite on loopback, with the keys table shaped like the deployed one (keyed by `keyHash`).
 */

import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbDocumentClient, DynamoApiKeyStore, hashApiKey } from '../../../../functions/adapters/aws';
import { createRecordTables, deleteTables, steppingClock } from '../../../contract/records.contract';
import { startDynamo, type DynamoEmulator } from '../../../support/emulators';

let dynamo: DynamoEmulator;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});

describe('DynamoApiKeyStore storage', () => {
  test('the item is keyed by the SHA-256 of the key, which the table never holds in plaintext', async () => {
    const tables = await createRecordTables(dynamo.client);
    const keys = new DynamoApiKeyStore({
      client: createDynamoDbDocumentClient(dynamo.client),
      tableName: tables.apiKeys,
      clock: steppingClock(),
    });
    const created = await keys.create('alice', 'laptop');
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: tables.apiKeys, Key: { keyHash: { S: hashApiKey(created.key) } } }),
    );
    expect(Item?.owner).toEqual({ S: 'alice' });
    const everything = await dynamo.client.send(new ScanCommand({ TableName: tables.apiKeys }));
    expect(JSON.stringify(everything.Items)).not.toContain(created.key);
    await deleteTables(dynamo.client, Object.values(tables));
  });
});
