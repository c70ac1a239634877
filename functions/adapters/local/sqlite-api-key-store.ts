/**
 * `SqliteApiKeyStore`: API keys in the local SQLite file, stored as SHA-256 hashes.
 *
 * A plain SHA-256 is enough here, unlike for passwords: each key is 32 bytes from a CSPRNG, so there is
 * no dictionary to try and brute force over 2^256 possibilities is hopeless, while a slow hash (bcrypt,
 * scrypt) would only add latency to every authenticated request. Lookup is by hash, so the comparison
 * that decides a match happens inside the index and leaks nothing about the secret through timing.
 */

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, systemClock } from '../../core';
import type { ApiKeyInfo, ApiKeyStore, Clock, CreatedApiKey } from '../../core';
import type { SqliteDatabase } from './sqlite-database';

/** Every key starts with this, so leaked keys are easy to spot in logs and secret scanners. */
export const API_KEY_PREFIX = 'psk_';
/** Longest label accepted. */
export const MAX_API_KEY_LABEL = 100;

interface KeyRow {
  id: string;
  owner: string;
  label: string;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

const toInfo = (row: KeyRow): ApiKeyInfo => ({
  id: row.id,
  owner: row.owner,
  label: row.label,
  prefix: row.prefix,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/** API keys in SQLite. */
export class SqliteApiKeyStore implements ApiKeyStore {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqliteDatabase,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    db.exec(`
      CREATE TABLE IF NOT EXISTS api_keys (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        label TEXT NOT NULL,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE INDEX IF NOT EXISTS api_keys_owner ON api_keys (owner, seq);
    `);
  }

  async create(owner: string, label: string): Promise<CreatedApiKey> {
    if (owner.length === 0) throw new DomainError(ErrorCode.BAD_REQUEST, 'An API key needs a non-empty owner.');
    if (label.length === 0 || label.length > MAX_API_KEY_LABEL) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `An API key label must be 1..${MAX_API_KEY_LABEL} characters.`, {
        field: 'label',
      });
    }
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const row: KeyRow = {
      id: randomUUID(),
      owner,
      label,
      prefix: key.slice(0, API_KEY_PREFIX.length + 6),
      created_at: new Date(this.clock()).toISOString(),
      revoked_at: null,
    };
    this.db
      .prepare('INSERT INTO api_keys (id, owner, label, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.id, row.owner, row.label, row.prefix, hashKey(key), row.created_at);
    return { ...toInfo(row), key };
  }

  async verify(key: string): Promise<string | null> {
    if (typeof key !== 'string' || !key.startsWith(API_KEY_PREFIX)) return null;
    const row = this.db
      .prepare('SELECT owner FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL')
      .get(hashKey(key)) as { owner: string } | undefined;
    return row?.owner ?? null;
  }

  async list(owner: string): Promise<ApiKeyInfo[]> {
    const rows = this.db
      .prepare(
        'SELECT id, owner, label, prefix, created_at, revoked_at FROM api_keys WHERE owner = ? ORDER BY seq DESC',
      )
      .all(owner) as KeyRow[];
    return rows.map(toInfo);
  }

  async revoke(id: string, owner: string): Promise<void> {
    const now = new Date(this.clock()).toISOString();
    const updated = this.db
      .prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND owner = ?')
      .run(now, id, owner);
    if (updated.changes === 0) throw new DomainError(ErrorCode.NOT_FOUND, `No API key with id ${id}.`, { id });
  }
}
