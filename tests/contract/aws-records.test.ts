/**
 * Runs the record-port contract (API keys, styles, models) against the SQLite adapters on a real
 * database file and against the DynamoDB adapters on dynalite over loopback, with tables shaped like
 * the deployed ones (keys table keyed by `keyHash`, catalog table by `pk`/`sk`).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  createDynamoDbDocumentClient,
  DynamoApiKeyStore,
  DynamoModelRegistry,
  DynamoStyleStore,
  hashApiKey,
} from '../../functions/adapters/aws';
import {
  openSqliteDatabase,
  SqliteApiKeyStore,
  SqliteModelRegistry,
  SqliteStyleStore,
} from '../../functions/adapters/local';
import { startDynamo, type DynamoEmulator } from '../support/emulators';
import { createRecordTables, deleteTables, describeRecordsContract, steppingClock } from './records.contract';

let dynamo: DynamoEmulator;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});

describeRecordsContract('SQLite adapters', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'peerstyle-records-'));
  const db = openSqliteDatabase(join(dir, 'peerstyle.db'));
  return {
    keys: new SqliteApiKeyStore(db, { clock }),
    styles: new SqliteStyleStore(db, { clock }),
    models: new SqliteModelRegistry(db, { clock }),
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeRecordsContract('DynamoDB adapters on dynalite', async (clock) => {
  const tables = await createRecordTables(dynamo.client);
  const client = createDynamoDbDocumentClient(dynamo.client);
  return {
    keys: new DynamoApiKeyStore({ client, tableName: tables.apiKeys, clock }),
    styles: new DynamoStyleStore({ client, tableName: tables.catalog, clock }),
    models: new DynamoModelRegistry({ client, tableName: tables.catalog, clock }),
    close: () => deleteTables(dynamo.client, Object.values(tables)),
  };
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
