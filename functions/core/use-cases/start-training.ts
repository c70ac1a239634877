/**
 * `startTraining`: validates a training request and queues it.
 *
 * Hyperparameters go through the trainer's own `applyOverrides`, the same check the `peerstyle train`
 * command applies, so the API accepts exactly the keys and bounds the trainer does and reports every
 * problem at once. The dataset is either a prefix of the owner's own uploads (which must hold a
 * `content/` group with at least one file and a `style/` group with at least two) or a folder the
 * operator offers by name; a client can name nothing else. The run's cost must fit the training budget
 * (`training-budget.ts`).
 */

import {
  applyOverrides,
  ConfigError,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  type TrainConfig,
} from '../../../trainer/config';
import { planRun, RunLengthError } from '../../../trainer/optim/schedule';
import { DomainError, ErrorCode, badField, parseOneOf } from '../errors';
import type { Job } from '../job';
import { assertBlobPrefix } from '../blob-key';
import type { UseCaseDeps } from './deps';
import { enqueueJob } from './enqueue-job';
import { parseModelName } from './model-name';
import { checkTrainingBudget } from './training-budget';
import { checkDatasetLayout, MIN_STYLE_IMAGES } from './training-dataset';
import { refuseLegacyArea, uploadPrefixFor } from './uploads';

/** Most hyperparameters one request may set. */
export const MAX_HYPERPARAMETERS = 50;

/** A training request as the API receives it. */
export interface TrainingRequest {
  dataset: { uploadPrefix?: string | null; folder?: string | null };
  preset: string;
  steps: number;
  hyperparameters?: readonly { key: string; value: string }[] | null;
  modelName?: string | null;
  idempotencyKey?: string | null;
}

/** The job input a training worker receives. */
export interface TrainingJobInput {
  [key: string]: string | number | Record<string, string> | { uploadPrefix: string } | { folder: string };
  dataset: { uploadPrefix: string } | { folder: string };
  preset: PresetName;
  steps: number;
  /** The validated overrides, as strings, exactly as `peerstyle train --key=value` takes them. */
  hyperparameters: Record<string, string>;
  modelName: string;
}

async function resolveDataset(
  deps: Pick<UseCaseDeps, 'blobs' | 'limits'>,
  owner: string,
  dataset: TrainingRequest['dataset'],
): Promise<TrainingJobInput['dataset']> {
  const hasPrefix = dataset.uploadPrefix !== undefined && dataset.uploadPrefix !== null;
  const hasFolder = dataset.folder !== undefined && dataset.folder !== null;
  if (hasPrefix === hasFolder) throw badField('dataset', 'give exactly one of uploadPrefix and folder.');
  if (hasFolder) {
    return { folder: parseOneOf('dataset folder', dataset.folder, deps.limits.datasetFolders) };
  }
  const prefix = dataset.uploadPrefix as string;
  try {
    assertBlobPrefix(prefix);
  } catch (error) {
    throw error instanceof DomainError ? badField('dataset.uploadPrefix', error.message) : error;
  }
  refuseLegacyArea(prefix, 'dataset.uploadPrefix');
  if (!prefix.endsWith('/') || !prefix.startsWith(uploadPrefixFor(owner))) {
    throw new DomainError(
      ErrorCode.NOT_FOUND,
      `dataset.uploadPrefix: no uploads under ${JSON.stringify(prefix)}; use a prefix ending in "/" under ${uploadPrefixFor(owner)}.`,
      { field: 'dataset.uploadPrefix' },
    );
  }
  const page = await deps.blobs.list({ prefix, limit: 1 });
  if (page.items.length === 0) {
    throw new DomainError(ErrorCode.NOT_FOUND, `dataset.uploadPrefix: no uploads under ${JSON.stringify(prefix)}.`, {
      field: 'dataset.uploadPrefix',
    });
  }
  // A quick look at the layout, so that a set bound to fail is refused now rather than once its job
  // runs; the runner checks every file's format when it copies the set (`checkDatasetLayout` again).
  const files: string[] = [];
  for (const folder of ['content', 'style'] as const) {
    const found = await deps.blobs.list({ prefix: `${prefix}${folder}/`, limit: MIN_STYLE_IMAGES });
    found.items.forEach((_, index) => files.push(`${folder}/${index}`));
  }
  checkDatasetLayout(files, { prefix, skipped: 0 });
  return { uploadPrefix: prefix };
}

/** Validates `request` and queues a TRAIN job owned by `owner`. */
export async function startTraining(
  deps: Pick<UseCaseDeps, 'blobs' | 'limits' | 'jobs' | 'queue' | 'starters' | 'events'>,
  owner: string,
  request: TrainingRequest,
): Promise<Job> {
  const preset = parseOneOf('preset', request.preset, PRESET_NAMES);
  const maxSteps = deps.limits.maxTrainingSteps;
  if (!Number.isInteger(request.steps) || request.steps < 1 || request.steps > maxSteps) {
    throw badField('steps', `must be an integer in 1..${maxSteps}, got ${request.steps}.`);
  }
  const pairs = request.hyperparameters ?? [];
  if (pairs.length > MAX_HYPERPARAMETERS)
    throw badField('hyperparameters', `at most ${MAX_HYPERPARAMETERS} may be set.`);
  const hyperparameters: Record<string, string> = {};
  for (const { key, value } of pairs) {
    if (Object.prototype.hasOwnProperty.call(hyperparameters, key))
      throw badField('hyperparameters', `"${key}" is given twice.`);
    hyperparameters[key] = value;
  }
  let config: TrainConfig;
  try {
    config = applyOverrides(presetConfig(preset), hyperparameters);
  } catch (error) {
    if (error instanceof ConfigError) throw badField('hyperparameters', error.message.split('\n').join(' '));
    throw error;
  }
  // The trainer makes the schedule follow `steps` (trainer/optim/schedule.ts); the same rule refuses a
  // request it cannot follow here, while the caller waits, instead of in a failed job.
  try {
    planRun(config, request.steps, {
      iterations: 'iterations' in hyperparameters,
      decayIterations: 'decayIterations' in hyperparameters,
    });
  } catch (error) {
    if (error instanceof RunLengthError) throw badField('steps', error.message);
    throw error;
  }
  const modelName = parseModelName(request.modelName ?? `tspr-${preset}`);
  await checkTrainingBudget(deps, owner, {
    config,
    steps: request.steps,
    ...(request.idempotencyKey != null ? { idempotencyKey: request.idempotencyKey } : {}),
  });
  const dataset = await resolveDataset(deps, owner, request.dataset);
  const input: TrainingJobInput = { dataset, preset, steps: request.steps, hyperparameters, modelName };
  return enqueueJob(deps, {
    owner,
    kind: 'TRAIN',
    input,
    ...(request.idempotencyKey != null ? { idempotencyKey: request.idempotencyKey } : {}),
  });
}
