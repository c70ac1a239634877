/**
 * Storing a local model folder in the blob store and registering it as a new model version: the last
 * step of every `onModelTrained` hook, whatever the folder holds (TF.js weights or an ONNX package).
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BlobStore, Job, JsonObject, ModelInfo, ModelRegistry } from '../../core';

/** Uploads every file in `dir` under `models/<owner>/<job id>/` and registers the prefix as `name`. */
export async function registerModelFolder(
  deps: { blobs: BlobStore; models: ModelRegistry },
  model: { job: Job; dir: string; name: string; manifest: JsonObject; requiredFile: string },
): Promise<ModelInfo> {
  const prefix = `models/${model.job.owner}/${model.job.id}/`;
  // Sorted, so the manifest lists files the same way on every file system.
  const files = (await fs.readdir(model.dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (!files.some((entry) => entry.name === model.requiredFile)) {
    throw new Error(`The model folder ${model.dir} has no ${model.requiredFile}.`);
  }
  for (const entry of files) {
    await deps.blobs.put(prefix + entry.name, await fs.readFile(path.join(model.dir, entry.name)));
  }
  return deps.models.register({
    name: model.name,
    owner: model.job.owner,
    packagePrefix: prefix,
    manifest: { ...model.manifest, files: files.map((entry) => entry.name) },
  });
}
