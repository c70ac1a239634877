/**
 * `DynamoApiKeyStore`: API keys in the DynamoDB keys table, keyed by the SHA-256 hash of the key.
 *
 * The partition key is the hash (`keyHash`, see `apiKeysTable` in infra/lib/jobs.ts) so that the
 * authorizer answers every request with one GetItem and never holds a plaintext key. Listing and
 * revoking by owner are rare admin operations and use a filtered Scan, the access the stack grants
 * the GraphQL function on this table; a revocation is a conditional Put of the same item with
 * `revokedAt` set, so a key deleted meanwhile is not resurrected. As with the SQLite store, a plain
 * SHA-256 suffices: keys are 32 random bytes, so there is nothing to guess.
 */

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DomainError, ErrorCode, systemClock } from '../../core';
import type { ApiKeyInfo, ApiKeyStore, Clock, CreatedApiKey } from '../../core';
import { awsErrorName, translateAwsError } from './aws-errors';

/** Every key starts with this (the same format as the local store's keys). */
export const DYNAMO_API_KEY_PREFIX = 'psk_';
/** Longest label accepted. */
export const DYNAMO_MAX_API_KEY_LABEL = 100;

/** The keys table's partition key, as infra/lib/jobs.ts provisions it. */
export const DYNAMO_API_KEYS_TABLE = { partitionKey: 'keyHash' } as const;

/** Options for `DynamoApiKeyStore`. */
export interface DynamoApiKeyStoreOptions {
  /** A client from `createDynamoDbDocumentClient`. */
  client: DynamoDBDocumentClient;
  /** The keys table (env PEERSTYLE_API_KEYS_TABLE). */
  tableName: string;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

/** A key item as stored. */
interface KeyItem {
  keyHash: string;
  id: string;
  owner: string;
  label: string;
  prefix: string;
  createdAt: string;
  revokedAt?: string;
}

/** The SHA-256 of a key, in hex: the table's partition key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const toInfo = (item: KeyItem): ApiKeyInfo => ({
  id: item.id,
  owner: item.owner,
  label: item.label,
  prefix: item.prefix,
  createdAt: item.createdAt,
  revokedAt: item.revokedAt ?? null,
});

/** API keys in DynamoDB. */
export class DynamoApiKeyStore implements ApiKeyStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoApiKeyStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  async create(owner: string, label: string): Promise<CreatedApiKey> {
    if (owner.length === 0) throw new DomainError(ErrorCode.BAD_REQUEST, 'An API key needs a non-empty owner.');
    if (label.length === 0 || label.length > DYNAMO_MAX_API_KEY_LABEL) {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `An API key label must be 1..${DYNAMO_MAX_API_KEY_LABEL} characters.`,
        { field: 'label' },
      );
    }
    const key = DYNAMO_API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const item: KeyItem = {
      keyHash: hashApiKey(key),
      id: randomUUID(),
      owner,
      label,
      prefix: key.slice(0, DYNAMO_API_KEY_PREFIX.length + 6),
      createdAt: new Date(this.clock()).toISOString(),
    };
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(keyHash)' }),
      );
    } catch (error) {
      throw translateAwsError(error, 'Creating an API key');
    }
    return { ...toInfo(item), key };
  }

  async verify(key: string): Promise<string | null> {
    // Anything not shaped like a key is rejected before it costs a read.
    if (typeof key !== 'string' || !key.startsWith(DYNAMO_API_KEY_PREFIX)) return null;
    return this.ownerOfKeyHash(hashApiKey(key));
  }

  /**
   * The owner of the working key whose hash is `keyHash`, or null for an unknown or revoked one: how a
   * WebSocket connection, which keeps only the hash of its key, is re-verified.
   */
  async ownerOfKeyHash(keyHash: string): Promise<string | null> {
    try {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { keyHash } }));
      const item = Item as KeyItem | undefined;
      return item === undefined || item.revokedAt !== undefined ? null : item.owner;
    } catch (error) {
      throw translateAwsError(error, 'Verifying an API key');
    }
  }

  async list(owner: string): Promise<ApiKeyInfo[]> {
    const items = await this.scanOwner(owner);
    // ISO timestamps of one clock sort as strings; the id breaks ties so the order is stable.
    items.sort((a, b) =>
      a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt),
    );
    return items.map(toInfo);
  }

  async revoke(id: string, owner: string): Promise<void> {
    const item = (await this.scanOwner(owner, id))[0];
    if (item === undefined) throw new DomainError(ErrorCode.NOT_FOUND, `No API key with id ${id}.`, { id });
    if (item.revokedAt !== undefined) return;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, revokedAt: new Date(this.clock()).toISOString() },
          ConditionExpression: 'attribute_exists(keyHash)',
        }),
      );
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') {
        throw new DomainError(ErrorCode.NOT_FOUND, `No API key with id ${id}.`, { id });
      }
      throw translateAwsError(error, 'Revoking an API key');
    }
  }

  /** Every key of `owner` (only the one with `id`, when given), following Scan pages to the end. */
  private async scanOwner(owner: string, id?: string): Promise<KeyItem[]> {
    const items: KeyItem[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: id === undefined ? '#owner = :owner' : '#owner = :owner AND #id = :id',
            ExpressionAttributeNames: { '#owner': 'owner', ...(id !== undefined && { '#id': 'id' }) },
            ExpressionAttributeValues: { ':owner': owner, ...(id !== undefined && { ':id': id }) },
            ...(start !== undefined && { ExclusiveStartKey: start }),
          }),
        );
        items.push(...((page.Items ?? []) as KeyItem[]));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (error) {
      throw translateAwsError(error, 'Listing API keys');
    }
    return items;
  }
}
