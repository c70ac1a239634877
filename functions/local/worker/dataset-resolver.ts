/**
 * Turning a training job's dataset reference into a folder on this machine. A dataset is either a
 * folder the operator offers by name (a sub-folder of the configured datasets folder) or a prefix of
 * the owner's uploads, which is downloaded into the job's own folder, keeping the layout under the
 * prefix (`<prefix>content/a.jpg` → `content/a.jpg`). A finished download is marked complete, so a
 * retried job reuses it and an interrupted one starts over.
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DomainError, ErrorCode } from '../../core';
import type { BlobStore } from '../../core';

/** A training job's dataset, as the API stores it. */
export type DatasetRef = { folder: string } | { uploadPrefix: string };

/** Resolves a dataset reference for a job to a local folder. */
export type DatasetResolver = (dataset: DatasetRef, jobId: string) => Promise<string>;

const COMPLETE = '.complete';

/** Builds a resolver over the operator's datasets folder and the blob store. */
export function createDatasetResolver(deps: {
  blobs: BlobStore;
  datasetsDir: string;
  downloadsDir: string;
}): DatasetResolver {
  return async (dataset, jobId) => {
    if ('folder' in dataset) {
      // Names only: a name with a separator or ".." could reach outside the datasets folder.
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(dataset.folder) || dataset.folder.includes('..')) {
        throw new DomainError(ErrorCode.BAD_REQUEST, `Dataset folder names are plain names, got "${dataset.folder}".`);
      }
      const dir = path.join(deps.datasetsDir, dataset.folder);
      const stat = await fs.stat(dir).catch(() => null);
      if (stat === null || !stat.isDirectory()) {
        throw new DomainError(ErrorCode.NOT_FOUND, `No dataset folder "${dataset.folder}" in ${deps.datasetsDir}.`);
      }
      return dir;
    }
    const dir = path.join(deps.downloadsDir, jobId);
    if (
      await fs.access(path.join(dir, COMPLETE)).then(
        () => true,
        () => false,
      )
    )
      return dir;
    await fs.rm(dir, { recursive: true, force: true });
    let cursor: string | undefined;
    let count = 0;
    do {
      const page = await deps.blobs.list({ prefix: dataset.uploadPrefix, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const info of page.items) {
        const file = path.join(dir, ...info.key.slice(dataset.uploadPrefix.length).split('/'));
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, await deps.blobs.get(info.key));
        count += 1;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (count === 0) throw new DomainError(ErrorCode.NOT_FOUND, `No uploads under ${dataset.uploadPrefix}.`);
    await fs.writeFile(path.join(dir, COMPLETE), '');
    return dir;
  };
}
