/**
 * `SqliteModelRegistry`: trained model packages in the local SQLite file, plus the built-in model.
 *
 * Versions count up per (owner, name) inside a write transaction, so two trainings that finish together
 * get distinct versions. The built-in model is not a row: it comes from the constructor, so replacing
 * the bundled package never needs a migration.
 */

import { randomUUID } from 'node:crypto';
import {
  decodeCursor,
  DEFAULT_MODEL_ID,
  encodeCursor,
  pageLimit,
  systemClock,
  assertRegistrable,
  builtInModelInfo,
} from '../../core';
import type { BuiltInModelOptions, Clock, JsonObject, ModelInfo, ModelRegistry, Page, PageRequest } from '../../core';
import { inWriteTransaction, type SqliteDatabase } from './sqlite-database';

/** Options for `SqliteModelRegistry`. */
export interface SqliteModelRegistryOptions extends BuiltInModelOptions {
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

interface ModelRow {
  seq: number;
  id: string;
  name: string;
  version: number;
  owner: string;
  package_prefix: string;
  manifest: string;
  created_at: string;
}

const toModel = (row: ModelRow): ModelInfo => ({
  id: row.id,
  name: row.name,
  version: row.version,
  owner: row.owner,
  packagePrefix: row.package_prefix,
  manifest: JSON.parse(row.manifest) as JsonObject,
  createdAt: row.created_at,
});

const isSeqCursor = (value: unknown): value is number => Number.isInteger(value);

/** Model packages in SQLite. */
export class SqliteModelRegistry implements ModelRegistry {
  private readonly clock: Clock;
  private readonly builtIn: ModelInfo;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteModelRegistryOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.builtIn = builtInModelInfo(options);
    db.exec(`
      CREATE TABLE IF NOT EXISTS models (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        owner TEXT NOT NULL,
        package_prefix TEXT NOT NULL,
        manifest TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (owner, name, version)
      );
    `);
  }

  async register(model: {
    name: string;
    owner: string;
    packagePrefix: string;
    manifest: JsonObject;
  }): Promise<ModelInfo> {
    assertRegistrable(model);
    return inWriteTransaction(this.db, () => {
      const { latest } = this.db
        .prepare('SELECT COALESCE(MAX(version), 0) AS latest FROM models WHERE owner = ? AND name = ?')
        .get(model.owner, model.name) as { latest: number };
      const info: ModelInfo = {
        id: randomUUID(),
        name: model.name,
        version: latest + 1,
        owner: model.owner,
        packagePrefix: model.packagePrefix,
        manifest: model.manifest,
        createdAt: new Date(this.clock()).toISOString(),
      };
      this.db
        .prepare(
          'INSERT INTO models (id, name, version, owner, package_prefix, manifest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          info.id,
          info.name,
          info.version,
          info.owner,
          info.packagePrefix,
          JSON.stringify(info.manifest),
          info.createdAt,
        );
      return info;
    });
  }

  async get(id: string, owner: string): Promise<ModelInfo | null> {
    if (id === DEFAULT_MODEL_ID) return this.builtIn;
    const row = this.db.prepare('SELECT * FROM models WHERE id = ? AND owner = ?').get(id, owner) as
      ModelRow | undefined;
    return row === undefined ? null : toModel(row);
  }

  async list(owner: string, request: PageRequest = {}): Promise<Page<ModelInfo>> {
    const limit = pageLimit(request.limit);
    const first = request.cursor === undefined;
    const before = first ? Number.MAX_SAFE_INTEGER : decodeCursor(request.cursor as string, isSeqCursor);
    // The built-in model takes the first slot of the first page.
    const wanted = first ? limit - 1 : limit;
    const rows = this.db
      .prepare('SELECT * FROM models WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
      .all(owner, before, wanted + 1) as ModelRow[];
    const page = rows.slice(0, wanted);
    const items = page.map(toModel);
    const result: Page<ModelInfo> = { items: first ? [this.builtIn, ...items] : items };
    if (rows.length > wanted) result.nextCursor = encodeCursor(page.length > 0 ? page[page.length - 1].seq : before);
    return result;
  }

  async getDefault(): Promise<ModelInfo> {
    return this.builtIn;
  }
}
