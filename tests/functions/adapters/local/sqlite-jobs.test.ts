/**
 * Local-only behaviour of the SQLite job store and queue: WAL mode, surviving a restart, idempotency
 * across two connections to one file, and stale lease receipts.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../../../functions/core';
import { openSqliteDatabase, SqliteJobQueue, SqliteJobStore } from '../../../../functions/adapters/local';
import { expectDomainError } from '../../../support/expect-domain-error';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'peerstyle-sqlite-'));
  file = join(dir, 'peerstyle.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('the database runs in WAL mode', () => {
  const db = openSqliteDatabase(file);
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  db.close();
});

test('queued jobs and leases survive closing and reopening the file', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = () => now;
  const first = openSqliteDatabase(file);
  const { job } = await new SqliteJobStore(first, { clock }).create({
    owner: 'alice',
    kind: 'TRAIN',
    input: { steps: 3 },
  });
  const queue = new SqliteJobQueue(first, { clock });
  await queue.enqueue(job.id);
  await queue.enqueue('second');
  const lease = await queue.receive('w1', 10);
  first.close();

  const reopened = openSqliteDatabase(file);
  const store = new SqliteJobStore(reopened, { clock });
  expect(await store.get(job.id)).toEqual(job);
  const queueAgain = new SqliteJobQueue(reopened, { clock });
  expect((await queueAgain.receive('w2', 10))?.jobId).toBe('second');
  now += 11_000;
  expect(await queueAgain.receive('w2', 10)).toMatchObject({ jobId: lease?.jobId, attempt: 2 });
  reopened.close();
});

test('two connections to one file still make one job per idempotency key', async () => {
  const a = openSqliteDatabase(file);
  const b = openSqliteDatabase(file);
  const request = { owner: 'alice', kind: 'STYLIZE' as const, input: {}, idempotencyKey: 'drop/a.jpg#v1' };
  const [x, y] = await Promise.all([new SqliteJobStore(a).create(request), new SqliteJobStore(b).create(request)]);
  expect(x.job.id).toBe(y.job.id);
  expect([x.created, y.created].sort()).toEqual([false, true]);
  a.close();
  b.close();
});

test('a receipt from a lost lease can neither ack, heartbeat nor release the redelivered job', async () => {
  let now = 0;
  const db = openSqliteDatabase(file);
  const queue = new SqliteJobQueue(db, { clock: () => now });
  await queue.enqueue('j');
  const stale = await queue.receive('w1', 5);
  now += 6000;
  await expectDomainError(queue.heartbeat(stale!.receipt, 5), ErrorCode.EXPIRED);
  const fresh = await queue.receive('w2', 5);
  await expectDomainError(queue.ack(stale!.receipt), ErrorCode.EXPIRED);
  await expectDomainError(queue.release(stale!.receipt), ErrorCode.EXPIRED);
  await queue.ack(fresh!.receipt);
  expect(await queue.stats()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  db.close();
});

test('dead letters survive a restart until acknowledged', async () => {
  let now = 0;
  const db = openSqliteDatabase(file);
  const queue = new SqliteJobQueue(db, { maxAttempts: 1, clock: () => now });
  await queue.enqueue('poison');
  await queue.receive('w', 1);
  now += 2000;
  expect(await queue.receive('w', 1)).toBeNull();
  db.close();
  const reopened = openSqliteDatabase(file);
  const dead = await new SqliteJobQueue(reopened, { maxAttempts: 1, clock: () => now }).receiveDeadLetters(5);
  expect(dead.map((d) => [d.jobId, d.attempts])).toEqual([['poison', 1]]);
  reopened.close();
});

test("the queue takes turns between owners: 200 jobs of one owner do not hold up another owner's one", async () => {
  const db = openSqliteDatabase(file);
  let now = Date.parse('2030-01-01T00:00:00Z');
  const queue = new SqliteJobQueue(db, { clock: () => now });
  for (let i = 0; i < 200; i += 1) {
    await queue.enqueue(`a-${i}`, { owner: 'alice' });
    now += 1;
  }
  await queue.enqueue('b-0', { owner: 'bob' });
  const claimed: string[] = [];
  for (let i = 0; i < 4; i += 1) claimed.push((await queue.receive('w', 60))?.jobId ?? 'none');
  // Round-robin: alice's oldest, then bob's only job, then alice again in her order.
  expect(claimed).toEqual(['a-0', 'b-0', 'a-1', 'a-2']);
  db.close();
});

test('fair turns survive a reopen, and messages from an older file without owners are still served', async () => {
  const old = openSqliteDatabase(file);
  old.exec(`CREATE TABLE queue_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,
    visible_at INTEGER NOT NULL, deliveries INTEGER NOT NULL DEFAULT 0, receipt TEXT UNIQUE, worker_id TEXT)`);
  old.prepare('INSERT INTO queue_messages (job_id, visible_at) VALUES (?, 0)').run('legacy');
  old.close();
  const db = openSqliteDatabase(file);
  const queue = new SqliteJobQueue(db);
  await queue.enqueue('new', { owner: 'carol' });
  const ids = [(await queue.receive('w', 60))?.jobId, (await queue.receive('w', 60))?.jobId].sort();
  expect(ids).toEqual(['legacy', 'new']);
  db.close();
});
