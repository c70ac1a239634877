/**
 * `SqliteStyleStore`: saved style images in the local SQLite file.
 *
 * Only the record lives here; the image is in the blob store under `blobKey`. Reads and deletes filter
 * by owner in SQL, so another user's style is indistinguishable from a missing one.
 */

import { randomUUID } from 'node:crypto';
import { assertBlobKey, decodeCursor, DomainError, encodeCursor, ErrorCode, pageLimit, systemClock } from '../../core';
import type { Clock, Page, PageRequest, Style, StyleStore } from '../../core';
import type { SqliteDatabase } from './sqlite-database';

/** Longest style name accepted. */
export const MAX_STYLE_NAME = 100;

interface StyleRow {
  seq: number;
  id: string;
  name: string;
  owner: string;
  blob_key: string;
  created_at: string;
}

const toStyle = (row: StyleRow): Style => ({
  id: row.id,
  name: row.name,
  owner: row.owner,
  blobKey: row.blob_key,
  createdAt: row.created_at,
});

const isSeqCursor = (value: unknown): value is number => Number.isInteger(value);

/** Saved style images in SQLite. */
export class SqliteStyleStore implements StyleStore {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqliteDatabase,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    db.exec(`
      CREATE TABLE IF NOT EXISTS styles (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        blob_key TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS styles_owner ON styles (owner, seq);
    `);
  }

  async create(style: { name: string; owner: string; blobKey: string }): Promise<Style> {
    if (style.name.trim().length === 0 || style.name.length > MAX_STYLE_NAME) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `A style name must be 1..${MAX_STYLE_NAME} characters.`, {
        field: 'name',
      });
    }
    if (style.owner.length === 0) throw new DomainError(ErrorCode.BAD_REQUEST, 'A style needs a non-empty owner.');
    assertBlobKey(style.blobKey);
    const record: Style = { id: randomUUID(), ...style, createdAt: new Date(this.clock()).toISOString() };
    this.db
      .prepare('INSERT INTO styles (id, name, owner, blob_key, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(record.id, record.name, record.owner, record.blobKey, record.createdAt);
    return record;
  }

  async get(id: string, owner: string): Promise<Style | null> {
    const row = this.db.prepare('SELECT * FROM styles WHERE id = ? AND owner = ?').get(id, owner) as
      StyleRow | undefined;
    return row === undefined ? null : toStyle(row);
  }

  async list(owner: string, request: PageRequest = {}): Promise<Page<Style>> {
    const limit = pageLimit(request.limit);
    const before = request.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(request.cursor, isSeqCursor);
    const rows = this.db
      .prepare('SELECT * FROM styles WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
      .all(owner, before, limit + 1) as StyleRow[];
    const page = rows.slice(0, limit);
    const result: Page<Style> = { items: page.map(toStyle) };
    const last = page.at(-1);
    if (rows.length > limit && last !== undefined) result.nextCursor = encodeCursor(last.seq);
    return result;
  }

  async delete(id: string, owner: string): Promise<void> {
    const deleted = this.db.prepare('DELETE FROM styles WHERE id = ? AND owner = ?').run(id, owner);
    if (deleted.changes === 0) throw new DomainError(ErrorCode.NOT_FOUND, `No style with id ${id}.`, { id });
  }
}
