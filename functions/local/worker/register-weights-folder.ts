/**
 * An `onModelTrained` hook that registers the trained TF.js weights folder as it is, without exporting
 * it. The engine cannot run such a model; this hook is for deployments without the exporter and for
 * keeping raw weights next to exported packages.
 */

import type { BlobStore, JsonValue, ModelRegistry } from '../../core';
import { registerModelFolder } from './register-model-folder';
import type { ModelTrainedHook, TrainedModel } from './train-executor';

/** Builds a hook that stores the weights folder under `models/<owner>/<job id>/` and registers it. */
export function registerWeightsFolder(deps: { blobs: BlobStore; models: ModelRegistry }): ModelTrainedHook {
  return async ({ job, modelDir, name, lastStep }: TrainedModel): Promise<JsonValue> => {
    const model = await registerModelFolder(deps, {
      job,
      dir: modelDir,
      name,
      manifest: { format: 'tfjs-weights', steps: lastStep },
      requiredFile: 'weights.json',
    });
    return { modelId: model.id, version: model.version, packagePrefix: model.packagePrefix };
  };
}
