/**
 * `SqliteModelRegistry`: trained model packages in the local SQLite file, plus the built-in model.
 *
 * Versions count up per (owner, name) in a counter row bumped inside a write transaction, so two
 * trainings that finish together get distinct versions; the counter is bumped before the package is
 * placed, and the model row written after, as in the DynamoDB registry. A data folder from before the
 * counter has only model rows: the first bump starts from their highest version. Rows keep the package
 * prefix they were registered with, so models stored under an older layout still load. The built-in
 * model is not a row: it comes from the constructor, so replacing the bundled package never needs a
 * migration.
 */

import { randomUUID } from 'node:crypto';
import {
  decodeCursor,
  DEFAULT_MODEL_ID,
  DomainError,
  encodeCursor,
  ErrorCode,
  modelPackagePrefix,
  pageLimit,
  systemClock,
  assertRegistrable,
  builtInModelInfo,
} from '../../core';
import type {
  BuiltInModelOptions,
  Clock,
  JsonObject,
  ModelInfo,
  ModelRegistry,
  NewModel,
  Page,
  PageRequest,
} from '../../core';
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
      CREATE TABLE IF NOT EXISTS model_versions (
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        latest INTEGER NOT NULL,
        PRIMARY KEY (owner, name)
      );
    `);
  }

  newId(): string {
    return randomUUID();
  }

  async register(model: NewModel, place: (packagePrefix: string) => Promise<void>): Promise<ModelInfo> {
    assertRegistrable(model);
    const existing = this.registered(model);
    if (existing !== null) return existing;
    const version = inWriteTransaction(this.db, () => {
      const counted = this.db
        .prepare('SELECT latest FROM model_versions WHERE owner = ? AND name = ?')
        .get(model.owner, model.name) as { latest: number } | undefined;
      const { stored } = this.db
        .prepare('SELECT COALESCE(MAX(version), 0) AS stored FROM models WHERE owner = ? AND name = ?')
        .get(model.owner, model.name) as { stored: number };
      const next = Math.max(counted?.latest ?? 0, stored) + 1;
      this.db
        .prepare(
          'INSERT INTO model_versions (owner, name, latest) VALUES (?, ?, ?) ' +
            'ON CONFLICT (owner, name) DO UPDATE SET latest = excluded.latest',
        )
        .run(model.owner, model.name, next);
      return next;
    });
    const packagePrefix = modelPackagePrefix(model.id, version);
    await place(packagePrefix);
    return inWriteTransaction(this.db, () => {
      // A concurrent registration of the same id may have finished first; its record stands.
      const winner = this.registered(model);
      if (winner !== null) return winner;
      const info: ModelInfo = {
        id: model.id,
        name: model.name,
        version,
        owner: model.owner,
        packagePrefix,
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

  /** The owner's model with this id, or null; CONFLICT when another owner's model has it. */
  private registered(model: NewModel): ModelInfo | null {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(model.id) as ModelRow | undefined;
    if (row === undefined) return null;
    if (row.owner !== model.owner) {
      throw new DomainError(ErrorCode.CONFLICT, `Model id ${model.id} is already taken; register under a new id.`);
    }
    return toModel(row);
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
    if (rows.length > wanted) result.nextCursor = encodeCursor(page.at(-1)?.seq ?? before);
    return result;
  }

  async getDefault(): Promise<ModelInfo> {
    return this.builtIn;
  }
}
