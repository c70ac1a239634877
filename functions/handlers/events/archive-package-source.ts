/**
 * A finished SageMaker run's `model.tar.gz` as a package source for `publishTrainedModel`.
 *
 * SageMaker packs the run's /opt/ml/model folder, where `peerstyle train --sagemaker` exported the
 * package beside the raw weights. The archive is read from the models bucket only when it is needed (a
 * repeated delivery for a model already registered never reads it), and once. Only top-level files
 * count: a package is a flat folder.
 */

import type { BlobStore } from '../../core';
import type { PackageSource } from '../../core/use-cases';
import { readTarGz } from '../support/tar-gz';

/** The package in the archive stored under `archiveKey` in `bucket`. */
export function archivePackageSource(bucket: BlobStore, archiveKey: string): PackageSource {
  let files: Promise<Map<string, Uint8Array>> | undefined;
  const load = async (): Promise<Map<string, Uint8Array>> => {
    const top = readTarGz(await bucket.get(archiveKey)).filter((file) => !file.name.includes('/'));
    return new Map(top.map((file) => [file.name, file.data]));
  };
  return {
    description: archiveKey,
    read: async (name) => {
      files ??= load();
      return (await files).get(name) ?? null;
    },
  };
}
