/**
 * `SqliteDropLedger`: the drop folder's memory, in the runtime's SQLite file. Each file it has acted on
 * is recorded under its path, size and modification time, so a restart does not process a file twice,
 * while a file replaced by a new one of the same name (different size or time) counts as new. Entries
 * that became jobs stay pending until their output has been written back to the folder.
 */

import type { SqliteDatabase } from '../../adapters/local';

/** What the drop folder did with a file. */
export type DropState = 'PENDING' | 'DELIVERED' | 'REJECTED' | 'FAILED';

/** One file the drop folder has seen. */
export interface DropEntry {
  /** Path relative to drop/, with "/" separators. */
  path: string;
  size: number;
  mtimeMs: number;
  state: DropState;
  /** The stylize job made for it, if any. */
  jobId: string | null;
}

/** The drop folder's record of files seen, in SQLite. */
export class SqliteDropLedger {
  constructor(private readonly db: SqliteDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS drop_files (
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        state TEXT NOT NULL,
        job_id TEXT,
        PRIMARY KEY (path, size, mtime_ms)
      );
      CREATE INDEX IF NOT EXISTS drop_files_state ON drop_files (state);
    `);
  }

  /** Whether this exact file (same path, size and time) has been seen. */
  has(path: string, size: number, mtimeMs: number): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM drop_files WHERE path = ? AND size = ? AND mtime_ms = ?')
        .get(path, size, mtimeMs) !== undefined
    );
  }

  /** Records a file; recording the same file again keeps the first record. */
  record(entry: DropEntry): void {
    this.db
      .prepare('INSERT OR IGNORE INTO drop_files (path, size, mtime_ms, state, job_id) VALUES (?, ?, ?, ?, ?)')
      .run(entry.path, entry.size, entry.mtimeMs, entry.state, entry.jobId);
  }

  /** Files whose jobs have not been delivered yet. */
  pending(): DropEntry[] {
    const rows = this.db
      .prepare("SELECT path, size, mtime_ms, state, job_id FROM drop_files WHERE state = 'PENDING'")
      .all() as { path: string; size: number; mtime_ms: number; state: DropState; job_id: string | null }[];
    return rows.map((r) => ({ path: r.path, size: r.size, mtimeMs: r.mtime_ms, state: r.state, jobId: r.job_id }));
  }

  /** Moves a file's record to its final state. */
  settle(entry: DropEntry, state: Exclude<DropState, 'PENDING'>): void {
    this.db
      .prepare('UPDATE drop_files SET state = ? WHERE path = ? AND size = ? AND mtime_ms = ?')
      .run(state, entry.path, entry.size, entry.mtimeMs);
  }
}
