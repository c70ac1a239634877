/**
 * `DynamoConnectionStore`: the WebSocket connections and subscriptions tables behind graphql-ws on
 * API Gateway.
 *
 * Layout (see `SUBSCRIPTION_TABLES_SCHEMA` in infra/lib/subscriptions.ts): a connection row keyed by
 * `connectionId`, holding the owner and the SHA-256 hash of its API key once `connection_init` was
 * accepted (never the key itself); a subscription row keyed by (`connectionId`, `subscriptionId`) with
 * its `topic` (`job#<id>` or `owner#<owner>`) and a copy of the connection's key hash, indexed by topic
 * so the stream publisher finds every subscriber of a job with one Query and can re-verify its key
 * without reading the connection row. Both rows carry `expiresAt` (epoch seconds) for DynamoDB's
 * TTL, because API Gateway closes sockets after two hours and `$disconnect` is not guaranteed to
 * arrive. Removal uses single-item deletes only, the access every function that removes rows is
 * granted.
 */

import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { JsonObject } from '../../core';
import { awsErrorName, translateAwsError } from './aws-errors';
import type { ConnectionRegistry } from './websocket-publisher';

/** Key, index and TTL names of the two tables, as infra/lib/subscriptions.ts provisions them. */
export const DYNAMO_SUBSCRIPTION_TABLES = {
  connectionKey: 'connectionId',
  subscriptionKey: 'subscriptionId',
  topicIndex: 'byTopic',
  topicAttribute: 'topic',
  ttlAttribute: 'expiresAt',
} as const;

/** How long rows live without a clean disconnect: API Gateway's two-hour connection limit plus slack. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

/** The subscription topic for one job's events. */
export const jobTopic = (jobId: string): string => `job#${jobId}`;
/** The subscription topic for every event of one owner's jobs. */
export const ownerTopic = (owner: string): string => `owner#${owner}`;

/** A connection as stored. */
export interface ConnectionRecord {
  connectionId: string;
  /** ISO-8601. */
  connectedAt: string;
  /** Set once `connection_init` carried a working key. */
  owner?: string;
  /** The hash of that key (the keys table's partition key), set with `owner`, to re-verify it later. */
  keyHash?: string;
  expiresAt: number;
}

/** A subscription as stored: enough to re-run its document for every event. */
export interface SubscriptionRecord {
  connectionId: string;
  /** The graphql-ws message id the client chose. */
  subscriptionId: string;
  topic: string;
  owner: string;
  /** The connection's key hash; a row without one cannot be re-verified and counts as revoked. */
  keyHash?: string;
  query: string;
  variables?: JsonObject;
  operationName?: string;
  expiresAt: number;
}

/** Options for `DynamoConnectionStore`. */
export interface DynamoConnectionStoreOptions {
  /** A client from `createDynamoDbDocumentClient`. */
  client: DynamoDBDocumentClient;
  /** env PEERSTYLE_WS_CONNECTIONS_TABLE */
  connectionsTable: string;
  /** env PEERSTYLE_WS_SUBSCRIPTIONS_TABLE */
  subscriptionsTable: string;
  /** env PEERSTYLE_WS_SUBSCRIPTIONS_BY_TOPIC_INDEX. @default 'byTopic' */
  topicIndexName?: string;
  /** Where time comes from, for TTLs. @default Date.now */
  clock?: () => number;
}

/** Connections and subscriptions in DynamoDB. */
export class DynamoConnectionStore implements ConnectionRegistry {
  private readonly client: DynamoDBDocumentClient;
  private readonly connectionsTable: string;
  private readonly subscriptionsTable: string;
  private readonly topicIndexName: string;
  private readonly clock: () => number;

  constructor(options: DynamoConnectionStoreOptions) {
    this.client = options.client;
    this.connectionsTable = options.connectionsTable;
    this.subscriptionsTable = options.subscriptionsTable;
    this.topicIndexName = options.topicIndexName ?? DYNAMO_SUBSCRIPTION_TABLES.topicIndex;
    this.clock = options.clock ?? Date.now;
  }

  /** The TTL for a row written now. */
  expiresAt(): number {
    return Math.floor(this.clock() / 1000) + CONNECTION_TTL_SECONDS;
  }

  /** Records a new, not yet authorised connection. */
  async addConnection(connectionId: string): Promise<ConnectionRecord> {
    const record: ConnectionRecord = {
      connectionId,
      connectedAt: new Date(this.clock()).toISOString(),
      expiresAt: this.expiresAt(),
    };
    await this.run('Recording a connection', () =>
      this.client.send(new PutCommand({ TableName: this.connectionsTable, Item: record })),
    );
    return record;
  }

  /** The connection, or null when it is unknown (closed, expired, never recorded). */
  async getConnection(connectionId: string): Promise<ConnectionRecord | null> {
    const { Item } = await this.run('Reading a connection', () =>
      this.client.send(new GetCommand({ TableName: this.connectionsTable, Key: { connectionId } })),
    );
    return (Item as ConnectionRecord | undefined) ?? null;
  }

  /**
   * Marks the connection as authorised for `owner` by the key whose hash is `keyHash`. Returns false
   * when the connection row is gone (the socket closed meanwhile), so no row is created for a dead
   * socket.
   */
  async authorise(connectionId: string, owner: string, keyHash: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.connectionsTable,
          Key: { connectionId },
          UpdateExpression: 'SET #owner = :owner, keyHash = :keyHash, expiresAt = :expiresAt',
          ConditionExpression: 'attribute_exists(connectionId)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ':keyHash': keyHash, ':expiresAt': this.expiresAt() },
        }),
      );
      return true;
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw translateAwsError(error, 'Authorising a connection');
    }
  }

  /** Stores a subscription, replacing one with the same id on the same connection. */
  async addSubscription(record: Omit<SubscriptionRecord, 'expiresAt'>): Promise<SubscriptionRecord> {
    const item: SubscriptionRecord = { ...record, expiresAt: this.expiresAt() };
    await this.run('Storing a subscription', () =>
      this.client.send(new PutCommand({ TableName: this.subscriptionsTable, Item: item })),
    );
    return item;
  }

  /** Deletes one subscription; deleting an unknown one is not an error (completes may repeat). */
  async removeSubscription(connectionId: string, subscriptionId: string): Promise<void> {
    await this.run('Deleting a subscription', () =>
      this.client.send(
        new DeleteCommand({ TableName: this.subscriptionsTable, Key: { connectionId, subscriptionId } }),
      ),
    );
  }

  /** Every subscription on `topic`, following index pages to the end. */
  async subscriptionsByTopic(topic: string): Promise<SubscriptionRecord[]> {
    return this.queryAll({
      IndexName: this.topicIndexName,
      KeyConditionExpression: 'topic = :topic',
      ExpressionAttributeValues: { ':topic': topic },
    });
  }

  /** Every subscription of one connection. */
  async subscriptionsOf(connectionId: string): Promise<SubscriptionRecord[]> {
    return this.queryAll({
      KeyConditionExpression: 'connectionId = :id',
      ExpressionAttributeValues: { ':id': connectionId },
    });
  }

  /** Forgets a connection and its subscriptions; forgetting an unknown one is not an error. */
  async remove(connectionId: string): Promise<void> {
    await this.run('Deleting a connection', () =>
      this.client.send(new DeleteCommand({ TableName: this.connectionsTable, Key: { connectionId } })),
    );
    for (const subscription of await this.subscriptionsOf(connectionId)) {
      await this.removeSubscription(connectionId, subscription.subscriptionId);
    }
  }

  private async queryAll(
    query: Pick<
      ConstructorParameters<typeof QueryCommand>[0],
      'IndexName' | 'KeyConditionExpression' | 'ExpressionAttributeValues'
    >,
  ): Promise<SubscriptionRecord[]> {
    const items: SubscriptionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.run('Querying subscriptions', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.subscriptionsTable,
            ...query,
            ...(start !== undefined && { ExclusiveStartKey: start }),
          }),
        ),
      );
      items.push(...((page.Items ?? []) as SubscriptionRecord[]));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  private async run<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateAwsError(error, what);
    }
  }
}
