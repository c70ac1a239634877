/**
 * The `onModelTrained` hook the local runtime uses: registers the model package the trainer exported
 * into its run's model folder, through `publishTrainedModel`, as the AWS state-change handler does with
 * the same folder packed by SageMaker. Nothing is exported here: `peerstyle train --sagemaker` exports
 * a completed run itself, under the job's model name.
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { JsonValue } from '../../core';
import { publishTrainedModel, type PackageSource, type PublishDeps } from '../../core/use-cases';
import type { ModelTrainedHook, TrainedModel } from './train-executor';

/** A model folder on this machine as a package source; messages call it the run's model folder. */
export function folderPackageSource(dir: string): PackageSource {
  return {
    description: "the training run's model folder",
    read: async (name) => {
      try {
        return await fs.readFile(path.join(dir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}

/** Builds a hook that registers the run's package and answers the job's result. */
export function registerTrainedPackage(deps: PublishDeps): ModelTrainedHook {
  return async ({ job, modelDir, lastStep }: TrainedModel): Promise<JsonValue> => {
    const { model } = await publishTrainedModel(deps, job, folderPackageSource(modelDir), { steps: lastStep });
    return { modelId: model.id, version: model.version, packagePrefix: model.packagePrefix };
  };
}
