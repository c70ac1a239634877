/**
 * `DynamoModelRegistry`: trained model packages in the DynamoDB catalog table, plus the built-in model.
 *
 * Records follow the catalog layout of `DynamoStyleStore` (`sk` = `model#<id>` in the owner's
 * partition). Versions count up per (owner, name) through a counter item (`sk` = `version#<name>`)
 * bumped with an atomic `ADD`: two trainings that finish together get distinct versions without a
 * transaction. A counter bumped by a writer that then failed leaves a gap in the numbering, never a
 * duplicate. Ids are time-ordered (`newCatalogId`), so the owner's partition lists models newest first.
 * The built-in model is not stored: it comes from the constructor, as in the local registry.
 */

import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_MODEL_ID,
  ErrorCode,
  modelPackagePrefix,
  pageLimit,
  systemClock,
  assertRegistrable,
  builtInModelInfo,
} from '../../core';
import type { BuiltInModelOptions, Clock, ModelInfo, ModelRegistry, NewModel, Page, PageRequest } from '../../core';
import { translateAwsError } from './aws-errors';
import { DYNAMO_CATALOG_TABLE, newCatalogId, ownerPartition, queryOwnerPage } from './dynamo-style-store';

/** Options for `DynamoModelRegistry`. */
export interface DynamoModelRegistryOptions extends BuiltInModelOptions {
  /** A client from `createDynamoDbDocumentClient`. */
  client: DynamoDBDocumentClient;
  /** The catalog table (env PEERSTYLE_CATALOG_TABLE). */
  tableName: string;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

interface ModelItem extends ModelInfo {
  pk: string;
  sk: string;
}

const toModel = (item: ModelItem): ModelInfo => ({
  id: item.id,
  name: item.name,
  version: item.version,
  owner: item.owner,
  packagePrefix: item.packagePrefix,
  manifest: item.manifest,
  createdAt: item.createdAt,
});

/** Model packages in DynamoDB. */
export class DynamoModelRegistry implements ModelRegistry {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly builtIn: ModelInfo;

  constructor(options: DynamoModelRegistryOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.builtIn = builtInModelInfo(options);
  }

  newId(): string {
    return newCatalogId(this.clock);
  }

  /**
   * Registers `model` (see `ModelRegistry.register`): the version counter is bumped, the package placed
   * under `models/<id>/<version>/`, and only then is the record written. A record that already exists
   * is returned as it is, before anything is placed or after a concurrent writer won the conditional put.
   */
  async register(model: NewModel, place: (packagePrefix: string) => Promise<void>): Promise<ModelInfo> {
    assertRegistrable(model);
    const existing = await this.get(model.id, model.owner);
    if (existing !== null) return existing;
    let version: number;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: ownerPartition(model.owner), sk: DYNAMO_CATALOG_TABLE.modelVersionPrefix + model.name },
          UpdateExpression: 'ADD latest :one',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      version = Number((Attributes as { latest: number }).latest);
    } catch (error) {
      throw translateAwsError(error, 'Registering a model');
    }
    const packagePrefix = modelPackagePrefix(model.id, version);
    await place(packagePrefix);
    const info: ModelInfo = {
      id: model.id,
      name: model.name,
      version,
      owner: model.owner,
      packagePrefix,
      manifest: model.manifest,
      createdAt: new Date(this.clock()).toISOString(),
    };
    const item: ModelItem = {
      pk: ownerPartition(model.owner),
      sk: DYNAMO_CATALOG_TABLE.modelPrefix + model.id,
      ...info,
    };
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return info;
    } catch (error) {
      const translated = translateAwsError(error, 'Registering a model');
      if (translated.code !== ErrorCode.CONFLICT) throw translated;
      const winner = await this.get(model.id, model.owner);
      if (winner === null) throw translated;
      return winner;
    }
  }

  async get(id: string, owner: string): Promise<ModelInfo | null> {
    if (id === DEFAULT_MODEL_ID) return this.builtIn;
    try {
      const { Item } = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: ownerPartition(owner), sk: DYNAMO_CATALOG_TABLE.modelPrefix + id },
        }),
      );
      return Item === undefined ? null : toModel(Item as ModelItem);
    } catch (error) {
      throw translateAwsError(error, 'Reading a model');
    }
  }

  async list(owner: string, request: PageRequest = {}): Promise<Page<ModelInfo>> {
    const limit = pageLimit(request.limit);
    const first = request.cursor === undefined;
    // The built-in model takes the first slot of the first page.
    const wanted = first ? limit - 1 : limit;
    const page = await queryOwnerPage<ModelItem>(
      this.client,
      this.tableName,
      owner,
      DYNAMO_CATALOG_TABLE.modelPrefix,
      wanted,
      request.cursor,
    );
    const items = page.items.map(toModel);
    return {
      items: first ? [this.builtIn, ...items] : items,
      ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
    };
  }

  async getDefault(): Promise<ModelInfo> {
    return this.builtIn;
  }
}
