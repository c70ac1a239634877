/**
 * `BlobModelCache`: copies model packages from the blob store into a local folder, because the engine
 * loads models from files. A package is downloaded once per model id into a temporary folder and
 * renamed into place, so a crash mid-download never leaves a half package that looks complete.
 */

import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DomainError, ErrorCode } from '../core';
import type { BlobStore, ModelRegistry } from '../core';

/** Local copies of model packages. */
export class BlobModelCache {
  constructor(
    private readonly blobs: BlobStore,
    private readonly models: ModelRegistry,
    private readonly cacheDir: string,
  ) {}

  /** The local folder holding `model`'s package (the built-in model when absent), downloading it if needed. */
  async dirFor(model: { id: string; packagePrefix: string } | undefined): Promise<string> {
    const chosen = model ?? (await this.models.getDefault());
    const dir = path.join(this.cacheDir, encodeURIComponent(chosen.id));
    if (
      await fs.access(dir).then(
        () => true,
        () => false,
      )
    )
      return dir;
    const partial = `${dir}.${randomUUID()}.partial`;
    await fs.mkdir(partial, { recursive: true });
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await this.blobs.list({ prefix: chosen.packagePrefix, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const info of page.items) {
        const file = path.join(partial, info.key.slice(chosen.packagePrefix.length));
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, await this.blobs.get(info.key));
        count += 1;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (count === 0) {
      await fs.rm(partial, { recursive: true, force: true });
      throw new DomainError(ErrorCode.NOT_FOUND, `Model "${chosen.id}" has no files under ${chosen.packagePrefix}.`, {
        modelId: chosen.id,
      });
    }
    await fs.rename(partial, dir).catch(async (error: unknown) => {
      // Another worker finished the same download first; its copy is as good as ours.
      await fs.rm(partial, { recursive: true, force: true });
      if (
        !(await fs.access(dir).then(
          () => true,
          () => false,
        ))
      )
        throw error;
    });
    return dir;
  }
}
