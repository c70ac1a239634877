/**
 * Copying a training job's dataset into the folder its run trains on (the run's training channel, see
 * `ProcessTrainerLauncher`): the one copy of the dataset a local run makes. A dataset is either a folder
 * the operator offers by name (a sub-folder of the configured datasets folder), copied as it is, or a
 * prefix of the owner's uploads, downloaded keeping the layout under the prefix (`<prefix>content/<uuid>`
 * → `content/<uuid>.jpg`). Uploads have no extension, and the trainer reads images by extension, so each
 * file is named after the format its bytes show; files that are not JPEG, PNG or WebP are left out, and
 * a set that cannot train is refused before the trainer starts (see `core/use-cases/training-dataset.ts`).
 * Messages name the dataset as the client does, never a folder on this machine.
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DomainError, ErrorCode } from '../../core';
import type { BlobStore } from '../../core';
import {
  checkDatasetLayout,
  datasetFileName,
  detectImageType,
  SIGNATURE_BYTES,
  type TrainingDataset,
} from '../../core/use-cases';

/** Copies a job's dataset into `into`, an empty folder. */
export type DatasetCopier = (dataset: TrainingDataset, into: string) => Promise<void>;

/** Builds a copier over the operator's datasets folder and the blob store. */
export function createDatasetCopier(deps: { blobs: BlobStore; datasetsDir: string }): DatasetCopier {
  return async (dataset, into) => {
    if ('folder' in dataset) {
      // Names only: a name with a separator or ".." could reach outside the datasets folder.
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(dataset.folder) || dataset.folder.includes('..')) {
        throw new DomainError(ErrorCode.BAD_REQUEST, `Dataset folder names are plain names, got "${dataset.folder}".`);
      }
      const dir = path.join(deps.datasetsDir, dataset.folder);
      const stat = await fs.stat(dir).catch(() => null);
      if (stat === null || !stat.isDirectory()) {
        throw new DomainError(ErrorCode.NOT_FOUND, `No dataset folder "${dataset.folder}" on this server.`, {
          field: 'dataset.folder',
        });
      }
      await fs.cp(dir, into, { recursive: true, dereference: true });
      return;
    }
    let cursor: string | undefined;
    const written: string[] = [];
    let skipped = 0;
    do {
      const page = await deps.blobs.list({ prefix: dataset.uploadPrefix, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const info of page.items) {
        const bytes = await deps.blobs.get(info.key);
        const name = datasetFileName(
          info.key.slice(dataset.uploadPrefix.length),
          detectImageType(bytes.subarray(0, SIGNATURE_BYTES)),
        );
        if (name === null) {
          skipped += 1;
          continue;
        }
        const file = path.join(into, ...name.split('/'));
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, bytes);
        written.push(name);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (written.length === 0 && skipped === 0) {
      throw new DomainError(
        ErrorCode.NOT_FOUND,
        `dataset.uploadPrefix: no uploads under ${JSON.stringify(dataset.uploadPrefix)}.`,
        {
          field: 'dataset.uploadPrefix',
        },
      );
    }
    checkDatasetLayout(written, { prefix: dataset.uploadPrefix, skipped });
  };
}
