/**
 * Opens the one SQLite file that holds every local store (jobs, queue, API keys, styles, models).
 *
 * WAL mode lets the HTTP server read while a worker writes, and a busy timeout makes a second process
 * (the CLI next to a running server) wait for the write lock instead of failing at once. Each store
 * creates its own tables, so this module knows nothing about their schemas.
 */

import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';

/** An open better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

/** Options for `openSqliteDatabase`. */
export interface OpenSqliteOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. @default 5000 */
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) the database file at `file`, in WAL mode. */
export function openSqliteDatabase(file: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  if (file !== ':memory:') {
    // Owner-only (0600), also for a file an older version made 0644: it holds key hashes and every
    // owner's jobs. SQLite gives the -wal and -shm files the database file's permissions.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only a power cut can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Runs `fn` in an IMMEDIATE transaction: the write lock is taken up front, so a read-then-write
 * (read a job, check its status, write it back) cannot interleave with another connection's.
 */
export function inWriteTransaction<T>(db: SqliteDatabase, fn: () => T): T {
  return db.transaction(fn).immediate();
}
