/**
 * Publishes a finished training run's model: unpacks SageMaker's `model.tar.gz` from
 * `training-output/` in the models bucket into `models/<modelId>/<version>/`, where the worker's model
 * cache downloads packages file by file, and registers that prefix in the catalog table.
 *
 * Only the package is copied: `manifest.json` and the files its `files` table lists (the graphs and
 * the weights a fine-tuning run starts from), at the top of the archive. Anything else in the archive
 * stays there, since every file under a package prefix is downloaded before a model loads. An archive without a manifest is refused, because what it holds is not a model
 * the worker could load. The manifest is written last, so a half-copied package fails to load with a
 * clear message instead of loading graphs from two versions.
 */

import { DomainError, ErrorCode, type BlobStore, type JsonObject, type ModelInfo } from '../../core';
import { readTarGz, type TarFile } from '../support/tar-gz';
import { MODELS_PREFIX } from './bucket-model-catalog';

/** The file that marks a folder as a model package (MANIFEST_FILE in trainer/export/package-format.ts). */
export const MANIFEST_FILE_NAME = 'manifest.json';

/** Registers models under ids chosen by the caller, placing their package first; idempotent per id. */
export interface IdentifiedModelRegistry {
  registerWithId(
    model: { id: string; name: string; owner: string; manifest: JsonObject },
    place: (id: string, version: number) => Promise<string>,
  ): Promise<ModelInfo>;
}

/** What a finished run asks to publish. */
export interface PublishRequest {
  /** The model id, chosen once per training job so that retries publish the same model. */
  id: string;
  name: string;
  owner: string;
  /** Key of `model.tar.gz` in the models bucket. */
  archiveKey: string;
  manifest: JsonObject;
}

/** Publishes trained models. */
export interface ModelPublisher {
  publish(request: PublishRequest): Promise<ModelInfo>;
}

/** The names the manifest's `files` table lists; none when it cannot be read (then it is refused later). */
function listedFiles(manifest: TarFile): Set<string> {
  try {
    const parsed = JSON.parse(Buffer.from(manifest.data).toString('utf8')) as { files?: Record<string, unknown> };
    return new Set(Object.keys(parsed.files ?? {}));
  } catch {
    return new Set();
  }
}

/** The package files of an archive, manifest last; throws INTERNAL when there is no manifest. */
export function packageFiles(archive: Uint8Array, archiveKey: string): TarFile[] {
  const top = readTarGz(archive).filter((file) => !file.name.includes('/'));
  const manifest = top.find((file) => file.name === MANIFEST_FILE_NAME);
  if (manifest === undefined) {
    throw new DomainError(
      ErrorCode.INTERNAL,
      `${archiveKey} holds no ${MANIFEST_FILE_NAME}: the training run did not export a model package.`,
      { archiveKey },
    );
  }
  const listed = listedFiles(manifest);
  return [...top.filter((file) => file !== manifest && listed.has(file.name)), manifest];
}

/** Unpacks into the models bucket and registers in the catalog. */
export class BucketModelPublisher implements ModelPublisher {
  constructor(
    /** The models bucket. */
    private readonly blobs: BlobStore,
    private readonly registry: IdentifiedModelRegistry,
  ) {}

  async publish(request: PublishRequest): Promise<ModelInfo> {
    return this.registry.registerWithId(
      { id: request.id, name: request.name, owner: request.owner, manifest: request.manifest },
      async (id, version) => {
        const prefix = `${MODELS_PREFIX}${id}/${version}/`;
        for (const file of packageFiles(await this.blobs.get(request.archiveKey), request.archiveKey)) {
          await this.blobs.put(`${prefix}${file.name}`, file.data);
        }
        return prefix;
      },
    );
  }
}
