/**
 * The SQLite API key store, style store and model registry, on a real database file: hashing, owner
 * isolation, versioning and the built-in model.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_ID, ErrorCode } from '../../../../functions/core';
import {
  openSqliteDatabase,
  SqliteApiKeyStore,
  SqliteModelRegistry,
  SqliteStyleStore,
  type SqliteDatabase,
} from '../../../../functions/adapters/local';
import { expectDomainError } from '../../../support/expect-domain-error';
import { at } from '../../../support/checked';

let dir: string;
let db: SqliteDatabase;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'peerstyle-records-'));
  db = openSqliteDatabase(join(dir, 'peerstyle.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteApiKeyStore', () => {
  test('a key verifies to its owner until revoked, and only its hash is stored', async () => {
    const keys = new SqliteApiKeyStore(db);
    const created = await keys.create('alice', 'laptop');
    expect(created.key).toMatch(/^psk_[A-Za-z0-9_-]{43}$/);
    expect(await keys.verify(created.key)).toBe('alice');
    expect(await keys.verify(`${created.key}x`)).toBeNull();
    const stored = JSON.stringify(db.prepare('SELECT * FROM api_keys').all());
    expect(stored).not.toContain(created.key);
    expect((await keys.list('alice')).map((k) => k.label)).toEqual(['laptop']);
    expect(await keys.list('bob')).toEqual([]);
    await expectDomainError(keys.revoke(created.id, 'bob'), ErrorCode.NOT_FOUND);
    await keys.revoke(created.id, 'alice');
    expect(await keys.verify(created.key)).toBeNull();
    expect((await keys.list('alice'))[0]?.revokedAt).not.toBeNull();
  });
});

describe('SqliteStyleStore', () => {
  test('styles are private to their owner and paginate newest first', async () => {
    const styles = new SqliteStyleStore(db);
    const made = [];
    for (const name of ['one', 'two', 'three'])
      made.push(await styles.create({ name, owner: 'alice', blobKey: `styles/alice/${name}.jpg` }));
    const one = at(made, 0);
    expect(await styles.get(one.id, 'bob')).toBeNull();
    expect((await styles.get(one.id, 'alice'))?.blobKey).toBe('styles/alice/one.jpg');
    const first = await styles.list('alice', { limit: 2 });
    const second = await styles.list('alice', { limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((s) => s.name)).toEqual(['three', 'two', 'one']);
    expect(second.nextCursor).toBeUndefined();
    await expectDomainError(styles.delete(one.id, 'bob'), ErrorCode.NOT_FOUND);
    await styles.delete(one.id, 'alice');
    expect(await styles.get(one.id, 'alice')).toBeNull();
    await expectDomainError(styles.create({ name: 'x', owner: 'alice', blobKey: '../etc' }), ErrorCode.BAD_REQUEST);
  });
});

describe('SqliteModelRegistry', () => {
  test('versions count per owner and name; the built-in model is visible to everyone', async () => {
    const models = new SqliteModelRegistry(db, { defaultManifest: { preset: 'paper' } });
    const register = (owner: string, manifest: Record<string, number>) =>
      models.register({ id: models.newId(), name: 'ink', owner, manifest }, async () => {});
    const v1 = await register('alice', { steps: 10 });
    const v2 = await register('alice', { steps: 20 });
    const bobs = await register('bob', {});
    expect([v1.version, v2.version, bobs.version]).toEqual([1, 2, 1]);
    expect(await models.get(v1.id, 'bob')).toBeNull();
    expect((await models.get(v2.id, 'alice'))?.manifest).toEqual({ steps: 20 });
    expect((await models.get(DEFAULT_MODEL_ID, 'bob'))?.manifest).toEqual({ preset: 'paper' });
    const page1 = await models.list('alice', { limit: 2 });
    const page2 = await models.list('alice', { limit: 2, cursor: page1.nextCursor });
    expect([...page1.items, ...page2.items].map((m) => m.id)).toEqual([DEFAULT_MODEL_ID, v2.id, v1.id]);
    expect(page2.nextCursor).toBeUndefined();
    // Ids are global in the file: another owner's id is refused rather than shadowed.
    await expectDomainError(
      models.register({ id: v1.id, name: 'ink', owner: 'bob', manifest: {} }, async () => {}),
      ErrorCode.CONFLICT,
    );
  });

  test('a model row an older version wrote under models/<owner>/<job id>/ keeps its package and its version count', async () => {
    // What versions before the single layout left in a data folder: the row, and no version counter.
    new SqliteModelRegistry(db);
    db.prepare(
      'INSERT INTO models (id, name, version, owner, package_prefix, manifest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(
      'old-model',
      'ink',
      3,
      'alice',
      'models/alice/job-1/',
      '{"format":"onnx-package"}',
      '2026-01-01T00:00:00.000Z',
    );
    db.close();
    db = openSqliteDatabase(join(dir, 'peerstyle.db'));
    const models = new SqliteModelRegistry(db);
    expect(await models.get('old-model', 'alice')).toMatchObject({ packagePrefix: 'models/alice/job-1/', version: 3 });
    const next = await models.register(
      { id: models.newId(), name: 'ink', owner: 'alice', manifest: {} },
      async () => {},
    );
    expect(next).toMatchObject({ version: 4, packagePrefix: `models/${next.id}/4/` });
    expect((await models.list('alice')).items.map((m) => m.id)).toEqual([DEFAULT_MODEL_ID, next.id, 'old-model']);
  });

  test('the built-in model presents the name and date of the bundled package', async () => {
    const models = new SqliteModelRegistry(db, {
      defaultName: 'peerstyle-small-sample',
      defaultCreatedAt: '2026-11-27T14:14:41.008Z',
    });
    const builtIn = await models.get(DEFAULT_MODEL_ID, 'anyone');
    expect([builtIn?.name, builtIn?.createdAt]).toEqual(['peerstyle-small-sample', '2026-11-27T14:14:41.008Z']);
  });
});
