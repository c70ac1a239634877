/**
 * Runs the record-port contract (API keys, styles, models) against the SQLite adapters on a real
 * database file and against the DynamoDB adapters on dynalite over loopback, with tables shaped like
 * the deployed ones (keys table keyed by `keyHash`, catalog table by `pk`/`sk`).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDynamoDbDocumentClient,
  DynamoApiKeyStore,
  DynamoModelRegistry,
  DynamoStyleStore,
} from '../../functions/adapters/aws';
import {
  openSqliteDatabase,
  SqliteApiKeyStore,
  SqliteModelRegistry,
  SqliteStyleStore,
} from '../../functions/adapters/local';
import { startDynamo, type DynamoEmulator } from '../support/emulators';
import { createRecordTables, deleteTables, describeRecordsContract } from './records.contract';

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
