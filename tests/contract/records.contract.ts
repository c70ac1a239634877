/**
 * Adapter-neutral behaviour of the three record ports (ApiKeyStore, StyleStore, ModelRegistry): what
 * every implementation must do, whatever it stores in. Each suite takes a factory that builds fresh,
 * empty stores on a given clock; the clock steps one second per reading so that "newest first" has a
 * single right answer on every adapter.
 */

import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { waitForActiveTable } from '../support/emulators';
import { BUILTIN_OWNER, DEFAULT_MODEL_ID, ErrorCode } from '../../functions/core';
import type { ApiKeyStore, Clock, ModelRegistry, StyleStore } from '../../functions/core';
import { expectDomainError } from '../support/expect-domain-error';
import { at } from '../support/checked';

/** Fresh stores for one test, and how to dispose of them. */
export interface RecordStores {
  keys: ApiKeyStore;
  styles: StyleStore;
  models: ModelRegistry;
  close: () => Promise<void>;
}

/** Builds empty stores reading time from `clock`. */
export type MakeRecordStores = (clock: Clock) => Promise<RecordStores>;

/** A clock that starts at a fixed instant and moves one second each time it is read. */
export function steppingClock(start = Date.UTC(2026, 0, 1)): Clock {
  let now = start;
  return () => {
    now += 1000;
    return now;
  };
}

/** Names of a fresh keys table and catalog table. */
export interface RecordTables {
  apiKeys: string;
  catalog: string;
}

/**
 * Creates a keys table (partition key `keyHash`) and a catalog table (`pk`/`sk`) shaped like the ones
 * infra/lib/jobs.ts provisions, with unique names, on a DynamoDB-protocol server.
 */
export async function createRecordTables(client: DynamoDBClient): Promise<RecordTables> {
  const suffix = randomUUID();
  const tables = { apiKeys: `keys-${suffix}`, catalog: `catalog-${suffix}` };
  await client.send(
    new CreateTableCommand({
      TableName: tables.apiKeys,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'keyHash', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'keyHash', KeyType: 'HASH' }],
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: tables.catalog,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await waitForActiveTable(client, tables.apiKeys);
  await waitForActiveTable(client, tables.catalog);
  return tables;
}

/** Deletes tables made by the helpers above. */
export async function deleteTables(client: DynamoDBClient, names: readonly string[]): Promise<void> {
  for (const name of names) await client.send(new DeleteTableCommand({ TableName: name }));
}

/** Registers the record-port contract suites for one family of adapters. */
export function describeRecordsContract(name: string, make: MakeRecordStores): void {
  describe(`${name}: records contract`, () => {
    let stores: RecordStores;
    beforeEach(async () => {
      stores = await make(steppingClock());
    });
    afterEach(async () => {
      await stores.close();
    });

    describe('ApiKeyStore', () => {
      test('a created key verifies to its owner; a tampered or foreign-shaped key does not', async () => {
        const created = await stores.keys.create('alice', 'laptop');
        expect(created.key).toMatch(/^psk_[A-Za-z0-9_-]{43}$/);
        expect(created.prefix).toBe(created.key.slice(0, 10));
        expect(await stores.keys.verify(created.key)).toBe('alice');
        expect(await stores.keys.verify(`${created.key}x`)).toBeNull();
        expect(await stores.keys.verify('not-a-key')).toBeNull();
      });

      test("listing shows only the owner's keys, newest first, never the secret", async () => {
        const first = await stores.keys.create('alice', 'laptop');
        await stores.keys.create('bob', 'ci');
        const second = await stores.keys.create('alice', 'phone');
        const listed = await stores.keys.list('alice');
        expect(listed.map((k) => k.id)).toEqual([second.id, first.id]);
        expect(JSON.stringify(listed)).not.toContain(first.key);
        expect(await stores.keys.list('carol')).toEqual([]);
      });

      test('revocation stops a key working, is idempotent, and is owner-scoped', async () => {
        const created = await stores.keys.create('alice', 'laptop');
        await expectDomainError(stores.keys.revoke(created.id, 'bob'), ErrorCode.NOT_FOUND);
        expect(await stores.keys.verify(created.key)).toBe('alice');
        await stores.keys.revoke(created.id, 'alice');
        expect(await stores.keys.verify(created.key)).toBeNull();
        const revoked = at(await stores.keys.list('alice'), 0);
        expect(revoked.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
        await stores.keys.revoke(created.id, 'alice');
        expect((await stores.keys.list('alice'))[0]?.revokedAt).toBe(revoked.revokedAt);
        await expectDomainError(stores.keys.revoke('no-such-id', 'alice'), ErrorCode.NOT_FOUND);
      });

      test('an empty owner or label is BAD_REQUEST', async () => {
        await expectDomainError(stores.keys.create('', 'x'), ErrorCode.BAD_REQUEST);
        await expectDomainError(stores.keys.create('alice', ''), ErrorCode.BAD_REQUEST);
      });
    });

    describe('StyleStore', () => {
      test('a style reads back for its owner and as absent for anyone else', async () => {
        const style = await stores.styles.create({ name: 'Starry', owner: 'alice', blobKey: 'drop/alice/a.png' });
        expect(await stores.styles.get(style.id, 'alice')).toEqual(style);
        expect(await stores.styles.get(style.id, 'bob')).toBeNull();
        await expectDomainError(stores.styles.delete(style.id, 'bob'), ErrorCode.NOT_FOUND);
        await stores.styles.delete(style.id, 'alice');
        expect(await stores.styles.get(style.id, 'alice')).toBeNull();
        await expectDomainError(stores.styles.delete(style.id, 'alice'), ErrorCode.NOT_FOUND);
      });

      test('listing is per owner, newest first, and pages without gaps or repeats', async () => {
        const made = [];
        for (let i = 0; i < 5; i += 1) {
          made.push(await stores.styles.create({ name: `s${i}`, owner: 'alice', blobKey: `drop/alice/${i}.png` }));
          await stores.styles.create({ name: `b${i}`, owner: 'bob', blobKey: `drop/bob/${i}.png` });
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await stores.styles.list('alice', { limit: 2, ...(cursor !== undefined && { cursor }) });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((s) => s.id));
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        expect(seen).toEqual(made.map((s) => s.id).reverse());
        await expectDomainError(stores.styles.list('alice', { cursor: 'garbage!' }), ErrorCode.BAD_REQUEST);
      });

      test('invalid names and blob keys are BAD_REQUEST', async () => {
        await expectDomainError(
          stores.styles.create({ name: ' ', owner: 'alice', blobKey: 'drop/a.png' }),
          ErrorCode.BAD_REQUEST,
        );
        await expectDomainError(
          stores.styles.create({ name: 'x', owner: 'alice', blobKey: '../etc' }),
          ErrorCode.BAD_REQUEST,
        );
      });
    });

    describe('ModelRegistry', () => {
      const manifest = { preset: 'tiny', imageSize: 256 };

      test('the built-in default model is visible to everyone and listed first', async () => {
        const builtIn = await stores.models.getDefault();
        expect(builtIn.id).toBe(DEFAULT_MODEL_ID);
        expect(builtIn.owner).toBe(BUILTIN_OWNER);
        expect(await stores.models.get(DEFAULT_MODEL_ID, 'anyone')).toEqual(builtIn);
        expect((await stores.models.list('anyone')).items).toEqual([builtIn]);
      });

      /** Registers a new model, recording the prefix the registry asked its package to go under. */
      async function register(name: string, owner: string, placed: string[] = []) {
        return stores.models.register({ id: stores.models.newId(), name, owner, manifest }, async (prefix) => {
          placed.push(prefix);
        });
      }

      test('versions count up per owner and name; models are private to their owner', async () => {
        const a1 = await register('ink', 'alice');
        const b1 = await register('ink', 'bob');
        const a2 = await register('ink', 'alice');
        const other = await register('oil', 'alice');
        expect([a1.version, b1.version, a2.version, other.version]).toEqual([1, 1, 2, 1]);
        expect(await stores.models.get(a2.id, 'alice')).toEqual(a2);
        expect(await stores.models.get(a2.id, 'bob')).toBeNull();
        const listed = await stores.models.list('alice');
        expect(listed.items.map((m) => m.id)).toEqual([DEFAULT_MODEL_ID, other.id, a2.id, a1.id]);
        expect(listed.items[1]?.manifest).toEqual(manifest);
      });

      test('every package goes under models/<id>/<version>/, placed before the record exists', async () => {
        const placed: string[] = [];
        const id = stores.models.newId();
        let seenWhilePlacing: unknown = 'not placed';
        const first = await stores.models.register({ id, name: 'ink', owner: 'alice', manifest }, async (prefix) => {
          placed.push(prefix);
          seenWhilePlacing = await stores.models.get(id, 'alice');
        });
        const second = await register('ink', 'alice', placed);
        expect(placed).toEqual([`models/${id}/1/`, `models/${second.id}/2/`]);
        expect([first.packagePrefix, second.packagePrefix]).toEqual(placed);
        expect(seenWhilePlacing).toBeNull();
      });

      test('registering an id again returns its model and places nothing, however often it is retried', async () => {
        const id = stores.models.newId();
        const placed: string[] = [];
        const place = async (prefix: string) => {
          placed.push(prefix);
        };
        const first = await stores.models.register({ id, name: 'ink', owner: 'alice', manifest }, place);
        const again = await stores.models.register({ id, name: 'ink', owner: 'alice', manifest }, place);
        expect(again).toEqual(first);
        expect(placed).toEqual([first.packagePrefix]);
        expect((await stores.models.list('alice')).items).toHaveLength(2);
      });

      test('a registration whose placing fails leaves no record; the retry takes the next version', async () => {
        const id = stores.models.newId();
        const failing = stores.models.register({ id, name: 'ink', owner: 'alice', manifest }, async () => {
          throw new Error('disk full');
        });
        await expect(failing).rejects.toThrow('disk full');
        expect(await stores.models.get(id, 'alice')).toBeNull();
        const retried = await stores.models.register({ id, name: 'ink', owner: 'alice', manifest }, async () => {});
        expect(retried).toMatchObject({ id, version: 2, packagePrefix: `models/${id}/2/` });
      });

      test('pages keep the built-in model on the first page only', async () => {
        const made = [];
        for (let i = 0; i < 3; i += 1) made.push(await register('ink', 'alice'));
        const ids: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await stores.models.list('alice', { limit: 1, ...(cursor !== undefined && { cursor }) });
          ids.push(...page.items.map((m) => m.id));
          cursor = page.nextCursor;
          pages += 1;
        } while (cursor !== undefined && pages < 10);
        expect(ids).toEqual([DEFAULT_MODEL_ID, ...made.map((m) => m.id).reverse()]);
      });

      test('the built-in owner and id, empty names and ids that are not one key segment are refused', async () => {
        const place = async () => {};
        const id = stores.models.newId();
        for (const model of [
          { id, name: 'x', owner: BUILTIN_OWNER },
          { id, name: ' ', owner: 'alice' },
          { id: DEFAULT_MODEL_ID, name: 'x', owner: 'alice' },
          { id: 'a/b', name: 'x', owner: 'alice' },
          { id: '', name: 'x', owner: 'alice' },
        ]) {
          await expectDomainError(stores.models.register({ ...model, manifest }, place), ErrorCode.BAD_REQUEST);
        }
      });
    });
  });
}
