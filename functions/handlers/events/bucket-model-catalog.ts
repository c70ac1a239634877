/**
 * `BucketModelCatalog`: the model registry as the stylize worker container sees it.
 *
 * The built-in model's package sits at a fixed prefix in the models bucket (the same default the
 * catalog-table registry uses) and is checked there, so a deployment without it fails with a clear
 * message rather than a load error. Trained models are registered in the catalog table; given that
 * registry, the worker resolves them through it (its role may get model records, and read their
 * packages under `models/`). Without it, a job naming another model fails with NOT_FOUND.
 */

import { DomainError, ErrorCode, DEFAULT_MODEL_ID, BUILTIN_OWNER, modelPackagePrefix } from '../../core';
import type { BlobStore, ModelInfo, ModelRegistry, Page } from '../../core';

/** Where the built-in model's package is deployed: the registry's layout, as version 1. */
export const DEFAULT_PACKAGE_PREFIX = modelPackagePrefix(DEFAULT_MODEL_ID, 1);

/** A read-only registry holding the built-in model. */
export class BucketModelCatalog implements ModelRegistry {
  constructor(
    private readonly blobs: BlobStore,
    private readonly defaultPackagePrefix: string = DEFAULT_PACKAGE_PREFIX,
    private readonly trained?: ModelRegistry,
  ) {}

  async get(id: string, owner?: string): Promise<ModelInfo | null> {
    if (id !== DEFAULT_MODEL_ID) {
      return this.trained === undefined || owner === undefined ? null : this.trained.get(id, owner);
    }
    // Checked, so that a deployment without the package fails with a clear message, not a load error.
    const page = await this.blobs.list({ prefix: this.defaultPackagePrefix, limit: 1 });
    const [newest] = page.items;
    if (newest === undefined) return null;
    return {
      id,
      name: 'TSPR default',
      version: 1,
      owner: BUILTIN_OWNER,
      packagePrefix: this.defaultPackagePrefix,
      manifest: {},
      createdAt: newest.lastModified,
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

  newId(): string {
    throw new DomainError(ErrorCode.INTERNAL, 'Workers read models; they do not register them.');
  }

  async register(): Promise<ModelInfo> {
    throw new DomainError(ErrorCode.INTERNAL, 'Workers read models; they do not register them.');
  }

  async list(): Promise<Page<ModelInfo>> {
    return { items: [await this.getDefault()] };
  }
}
