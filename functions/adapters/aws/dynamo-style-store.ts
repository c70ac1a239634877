/**
 * `DynamoStyleStore`: saved style images in the DynamoDB catalog table, and the catalog layout it
 * shares with `DynamoModelRegistry`.
 *
 * Catalog layout (keys `pk`/`sk`, see `catalogTable` in infra/lib/jobs.ts): every record lives in its
 * owner's partition, `pk` = `owner#<owner>`, with `sk` = `style#<id>` or `model#<id>`. Ids are
 * UUIDv7-shaped, so they sort by creation time: a Query on the partition with `begins_with` and
 * `ScanIndexForward: false` lists newest first, and reading another owner's record is impossible by
 * construction, since the owner is part of the key. Cursors are the last returned sort key.
 */

import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { assertBlobKey, decodeCursor, DomainError, encodeCursor, ErrorCode, pageLimit, systemClock } from '../../core';
import type { Clock, Page, PageRequest, Style, StyleStore } from '../../core';
import { awsErrorName, translateAwsError } from './aws-errors';

/** The catalog table's key names and the prefixes of its sort keys. */
export const DYNAMO_CATALOG_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ownerPrefix: 'owner#',
  stylePrefix: 'style#',
  modelPrefix: 'model#',
  modelVersionPrefix: 'version#',
} as const;

/** Longest style name accepted (the same limit as the local store). */
export const DYNAMO_MAX_STYLE_NAME = 100;

let lastMillis = -1;
let sequence = 0;

/**
 * A UUIDv7-shaped id for the clock's current time. Within one millisecond a counter takes the place
 * of the random bits' top, so ids made by one container are strictly increasing even in a burst.
 */
export function newCatalogId(clock: Clock = systemClock): string {
  const millis = Math.max(0, Math.floor(clock()));
  sequence = millis === lastMillis ? sequence + 1 : 0;
  lastMillis = millis;
  const time = millis.toString(16).padStart(12, '0').slice(-12);
  const counter = (0x7000 | (sequence & 0x0fff)).toString(16);
  const random = randomBytes(8);
  random.writeUInt8((random.readUInt8(0) & 0x3f) | 0x80, 0); // RFC 9562 variant bits
  const tail = random.toString('hex');
  return `${time.slice(0, 8)}-${time.slice(8)}-${counter}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

/** The partition holding `owner`'s records. */
export const ownerPartition = (owner: string): string => DYNAMO_CATALOG_TABLE.ownerPrefix + owner;

const isSortKeyCursor = (value: unknown): value is string => typeof value === 'string';

/**
 * Reads one page of `owner`'s records whose sort key starts with `prefix`, newest first. `wanted` may
 * be 0 (the model listing reserves the first slot for the built-in model); one extra item is read to
 * learn whether another page follows.
 */
export async function queryOwnerPage<T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  owner: string,
  prefix: string,
  wanted: number,
  cursor: string | undefined,
): Promise<{ items: T[]; nextCursor?: string }> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor, isSortKeyCursor);
  let result;
  try {
    result = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': ownerPartition(owner), ':prefix': prefix },
        ScanIndexForward: false,
        Limit: wanted + 1,
        // An empty cursor is the start of the listing (a first page that had no room for records).
        ...(after !== undefined && after !== '' && { ExclusiveStartKey: { pk: ownerPartition(owner), sk: after } }),
      }),
    );
  } catch (error) {
    throw translateAwsError(error, 'Listing catalog records');
  }
  const rows = (result.Items ?? []) as Array<T & { sk: string }>;
  const page = rows.slice(0, wanted);
  const next = rows.length > wanted ? (page.at(-1)?.sk ?? after ?? '') : undefined;
  return { items: page, ...(next !== undefined && { nextCursor: encodeCursor(next) }) };
}

interface StyleItem {
  pk: string;
  sk: string;
  id: string;
  name: string;
  owner: string;
  blobKey: string;
  createdAt: string;
}

const toStyle = (item: StyleItem): Style => ({
  id: item.id,
  name: item.name,
  owner: item.owner,
  blobKey: item.blobKey,
  createdAt: item.createdAt,
});

/** Options for `DynamoStyleStore`. */
export interface DynamoStyleStoreOptions {
  /** A client from `createDynamoDbDocumentClient`. */
  client: DynamoDBDocumentClient;
  /** The catalog table (env PEERSTYLE_CATALOG_TABLE). */
  tableName: string;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

/** Saved style images in DynamoDB. */
export class DynamoStyleStore implements StyleStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoStyleStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  async create(style: { name: string; owner: string; blobKey: string }): Promise<Style> {
    if (style.name.trim().length === 0 || style.name.length > DYNAMO_MAX_STYLE_NAME) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `A style name must be 1..${DYNAMO_MAX_STYLE_NAME} characters.`, {
        field: 'name',
      });
    }
    if (style.owner.length === 0) throw new DomainError(ErrorCode.BAD_REQUEST, 'A style needs a non-empty owner.');
    assertBlobKey(style.blobKey);
    const id = newCatalogId(this.clock);
    const record: Style = { id, ...style, createdAt: new Date(this.clock()).toISOString() };
    const item: StyleItem = { pk: ownerPartition(style.owner), sk: DYNAMO_CATALOG_TABLE.stylePrefix + id, ...record };
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      throw translateAwsError(error, 'Saving a style');
    }
    return record;
  }

  async get(id: string, owner: string): Promise<Style | null> {
    try {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(id, owner) }));
      return Item === undefined ? null : toStyle(Item as StyleItem);
    } catch (error) {
      throw translateAwsError(error, 'Reading a style');
    }
  }

  async list(owner: string, request: PageRequest = {}): Promise<Page<Style>> {
    const limit = pageLimit(request.limit);
    const page = await queryOwnerPage<StyleItem>(
      this.client,
      this.tableName,
      owner,
      DYNAMO_CATALOG_TABLE.stylePrefix,
      limit,
      request.cursor,
    );
    return { items: page.items.map(toStyle), ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
  }

  async delete(id: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(id, owner),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') {
        throw new DomainError(ErrorCode.NOT_FOUND, `No style with id ${id}.`, { id });
      }
      throw translateAwsError(error, 'Deleting a style');
    }
  }

  private key(id: string, owner: string): { pk: string; sk: string } {
    return { pk: ownerPartition(owner), sk: DYNAMO_CATALOG_TABLE.stylePrefix + id };
  }
}
