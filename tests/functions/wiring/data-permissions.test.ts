/**
 * The data folder is readable by its owner only (issue 12, item 19): the SQLite file and its WAL are
 * 0600 and the blob folders 0700, also when an older version left them 0644 and 0755.
 */

import { chmodSync, mkdirSync, promises as fs, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openRuntime, tempDir } from '../../support/runtime';

const mode = (file: string): number => statSync(file).mode & 0o777;

let dir: string;
let umask: number;
beforeEach(async () => {
  dir = await tempDir('perms');
  umask = process.umask(0o022);
});
afterEach(async () => {
  process.umask(umask);
  await fs.rm(dir, { recursive: true, force: true });
});

test('a new data folder: database 0600, blob folders 0700', async () => {
  const data = path.join(dir, 'data');
  const rt = openRuntime(data);
  try {
    await rt.blobs.put('uploads/alice/x', Buffer.from('x'));
    expect(mode(path.join(data, 'peerstyle.sqlite'))).toBe(0o600);
    expect(mode(path.join(data, 'peerstyle.sqlite-wal'))).toBe(0o600);
    expect(mode(data)).toBe(0o700);
    for (const sub of ['', 'objects', 'meta', 'tmp']) expect(mode(path.join(data, 'blobs', sub))).toBe(0o700);
  } finally {
    rt.close();
  }
});

test('an existing data folder made world-readable is tightened on open', () => {
  const data = path.join(dir, 'data');
  mkdirSync(path.join(data, 'blobs', 'objects'), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(data, 'peerstyle.sqlite'), '');
  chmodSync(path.join(data, 'peerstyle.sqlite'), 0o644);
  const rt = openRuntime(data);
  rt.close();
  expect(mode(path.join(data, 'peerstyle.sqlite'))).toBe(0o600);
  expect(mode(path.join(data, 'blobs', 'objects'))).toBe(0o700);
});
