/**
 * Runs every port contract against the embedded local adapters: a real folder for blobs, a real SQLite
 * file (in a fresh temporary directory per test) for jobs and the queue, and the in-process emitter for
 * events. The queue gets an injected clock so lease expiry costs no wall time.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FsBlobStore,
  InProcessJobEvents,
  openSqliteDatabase,
  SqliteJobQueue,
  SqliteJobStore,
} from '../../functions/adapters/local';
import { describeBlobStoreContract } from './blob-store.contract';
import { describeJobEventsContract } from './job-events.contract';
import { describeJobQueueContract } from './job-queue.contract';
import { describeJobStoreContract } from './job-store.contract';

function tempDir(): { dir: string; remove: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'peerstyle-contract-'));
  return { dir, remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

describeBlobStoreContract('FsBlobStore', async () => {
  const { dir, remove } = tempDir();
  const store = new FsBlobStore({
    root: dir,
    signingSecret: 'contract-secret',
    uploadUrl: 'http://127.0.0.1:4000/uploads',
    downloadBaseUrl: 'http://127.0.0.1:4000/blobs',
  });
  return { store, close: remove };
});

describeJobStoreContract('SqliteJobStore', async () => {
  const { dir, remove } = tempDir();
  const db = openSqliteDatabase(join(dir, 'peerstyle.db'));
  return {
    store: new SqliteJobStore(db),
    close: async () => {
      db.close();
      await remove();
    },
  };
});

describeJobQueueContract('SqliteJobQueue', async () => {
  const { dir, remove } = tempDir();
  const db = openSqliteDatabase(join(dir, 'peerstyle.db'));
  let now = Date.now();
  const maxAttempts = 3;
  return {
    queue: new SqliteJobQueue(db, { maxAttempts, clock: () => now }),
    maxAttempts,
    advance: async (seconds) => {
      now += seconds * 1000;
    },
    close: async () => {
      db.close();
      await remove();
    },
  };
});

describeJobEventsContract('InProcessJobEvents', async () => {
  const events = new InProcessJobEvents();
  return {
    events,
    close: async () => {
      expect(events.subscriberCount()).toBe(0);
    },
  };
});
