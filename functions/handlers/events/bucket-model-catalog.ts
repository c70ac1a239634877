/**
 * `BucketModelCatalog`: the model registry as the stylize worker container sees it.
 *
 * The worker's role may read `models/` in the models bucket but no table, so it knows the built-in
 * model, whose package sits at a fixed prefix (the same default the catalog-table registry uses), and
 * no other. A job naming another model fails with NOT_FOUND from the executor, which says so.
 */

import { DomainError, ErrorCode, DEFAULT_MODEL_ID, BUILTIN_OWNER } from '../../core';
import type { BlobStore, ModelInfo, ModelRegistry, Page } from '../../core';

/** Prefix of model packages in the models bucket. */
export const MODELS_PREFIX = 'models/';
/** Where the built-in model's package is deployed. */
export const DEFAULT_PACKAGE_PREFIX = `${MODELS_PREFIX}${DEFAULT_MODEL_ID}/1/`;

/** A read-only registry holding the built-in model. */
export class BucketModelCatalog implements ModelRegistry {
  constructor(
    private readonly blobs: BlobStore,
    private readonly defaultPackagePrefix: string = DEFAULT_PACKAGE_PREFIX,
  ) {}

  async get(id: string): Promise<ModelInfo | null> {
    if (id !== DEFAULT_MODEL_ID) return null;
    // Checked, so that a deployment without the package fails with a clear message, not a load error.
    const page = await this.blobs.list({ prefix: this.defaultPackagePrefix, limit: 1 });
    if (page.items.length === 0) return null;
    return {
      id,
      name: 'TSPR default',
      version: 1,
      owner: BUILTIN_OWNER,
      packagePrefix: this.defaultPackagePrefix,
      manifest: {},
      createdAt: page.items[0].lastModified,
    };
  }

  async getDefault(): Promise<ModelInfo> {
    const model = await this.get(DEFAULT_MODEL_ID);
    if (model === null) {
      throw new DomainError(
        ErrorCode.UNAVAILABLE,
        `The built-in model is missing: nothing under ${this.defaultPackagePrefix}.`,
      );
    }
    return model;
  }

  async register(): Promise<ModelInfo> {
    throw new DomainError(ErrorCode.INTERNAL, 'Workers read models; they do not register them.');
  }

  async list(): Promise<Page<ModelInfo>> {
    return { items: [await this.getDefault()] };
  }
}
