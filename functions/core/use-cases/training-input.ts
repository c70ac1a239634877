/**
 * The input of a TRAIN job: one type, made by one parser when the request is submitted and read back
 * by one reader wherever the job runs (the local train executor, the AWS training launcher, the AWS
 * state-change handler), so the runtimes cannot drift apart on what a training job asks for.
 *
 * `parseTrainingRequest` turns the API's request into the input: the preset, hyperparameters and run
 * length go through the trainer's own checks (the training-rules port: those of `peerstyle train
 * --key=value` and its schedule), and the dataset must be a folder the operator offers or a prefix in
 * the owner's own uploads. `trainingInputOf` reads a stored input back; it checks the shape again,
 * and that an upload prefix lies in the job owner's upload area, since a runner has only the job record
 * to go on and may be able to read every owner's uploads. `trainerHyperparameters` is the SageMaker
 * contract both runtimes hand the trainer.
 */

import { assertBlobPrefix } from '../blob-key';
import { DomainError, ErrorCode, badField, parseOneOf } from '../errors';
import type { Job } from '../job';
import { isRecord } from '../json';
import type { IterationCost, TrainingRules } from '../ports/training-rules';
import type { UseCaseLimits } from './deps';
import { parseModelName } from './model-name';
import { refuseLegacyArea, uploadPrefixFor } from './uploads';

/** Most hyperparameters one request may set. */
export const MAX_HYPERPARAMETERS = 50;

/**
 * The hyperparameter that carries the model's name to `peerstyle train --sagemaker`, which writes it
 * into the package it exports. It travels in hyperparameters.json, never on a command line, so a name
 * such as "--verify" stays a name.
 */
export const MODEL_NAME_HYPERPARAMETER = 'model-name';

/** The form of a preset's name; which presets exist is the trainer's to say. */
const PRESET_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** A training request as the API receives it. */
export interface TrainingRequest {
  dataset: { uploadPrefix?: string | null; folder?: string | null };
  preset: string;
  steps: number;
  hyperparameters?: readonly { key: string; value: string }[] | null;
  modelName?: string | null;
  idempotencyKey?: string | null;
}

/** Where a TRAIN job's images are: a folder the operator offers by name, or a prefix of the owner's uploads. */
export type TrainingDataset = { folder: string } | { uploadPrefix: string };

/** What a TRAIN job asks for, as stored on the job and read back by its runner. */
export interface TrainingJobInput {
  [key: string]: string | number | Record<string, string> | TrainingDataset;
  dataset: TrainingDataset;
  /** One of the trainer's presets (checked against them at submission). */
  preset: string;
  /** Iterations to train; the schedule follows them (trainer/optim/schedule.ts). */
  steps: number;
  /** The validated config overrides, as strings, exactly as `peerstyle train --key=value` takes them. */
  hyperparameters: Record<string, string>;
  /** The name the trained model is registered and exported under. */
  modelName: string;
}

function parseDataset(
  owner: string,
  dataset: TrainingRequest['dataset'],
  limits: Pick<UseCaseLimits, 'datasetFolders'>,
): TrainingDataset {
  const hasPrefix = dataset.uploadPrefix !== undefined && dataset.uploadPrefix !== null;
  const hasFolder = dataset.folder !== undefined && dataset.folder !== null;
  if (hasPrefix === hasFolder) throw badField('dataset', 'give exactly one of uploadPrefix and folder.');
  if (hasFolder) return { folder: parseOneOf('dataset folder', dataset.folder, limits.datasetFolders) };
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
  return { uploadPrefix: prefix };
}

/**
 * Validates a training request of `owner` and returns the job input it becomes, with the cost of one
 * of its iterations (for the training budget). BAD_REQUEST names the field and the valid values; a
 * dataset prefix outside the owner's uploads is NOT_FOUND. Whether the prefix holds a usable set is
 * checked apart (`startTraining`), since that needs the blob store.
 */
export function parseTrainingRequest(
  owner: string,
  request: TrainingRequest,
  limits: Pick<UseCaseLimits, 'maxTrainingSteps' | 'datasetFolders'>,
  rules: TrainingRules,
): { input: TrainingJobInput; cost: IterationCost } {
  const preset = parseOneOf('preset', request.preset, rules.presets);
  const maxSteps = limits.maxTrainingSteps;
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
  // Refused here, while the caller waits, rather than in a failed job.
  const check = rules.checkRun(preset, hyperparameters, request.steps);
  if (!check.ok) throw badField(check.field, check.problem);
  const modelName = parseModelName(request.modelName ?? `tspr-${preset}`);
  const dataset = parseDataset(owner, request.dataset, limits);
  return { input: { dataset, preset, steps: request.steps, hyperparameters, modelName }, cost: check.cost };
}

/**
 * The input of a stored TRAIN job. BAD_REQUEST when the job is not a TRAIN job or its input is not one
 * `parseTrainingRequest` makes; FORBIDDEN when its upload prefix lies outside the owner's uploads.
 * Records from before the model name was stored get the name `startTraining` gives by default.
 */
export function trainingInputOf(job: Job): TrainingJobInput {
  if (job.kind !== 'TRAIN') {
    throw new DomainError(ErrorCode.BAD_REQUEST, `Job ${job.id} is a ${job.kind} job, not a TRAIN job.`);
  }
  const input = isRecord(job.input) ? job.input : {};
  const invalid = (what: string): DomainError =>
    new DomainError(ErrorCode.BAD_REQUEST, `The training job's input ${what}.`, { field: 'input', jobId: job.id });
  const stored = isRecord(input.dataset) ? input.dataset : {};
  let dataset: TrainingDataset;
  if (typeof stored.folder === 'string') dataset = { folder: stored.folder };
  else if (typeof stored.uploadPrefix === 'string') {
    const own = uploadPrefixFor(job.owner);
    if (!stored.uploadPrefix.startsWith(own) || stored.uploadPrefix.split('/').includes('..')) {
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        `dataset.uploadPrefix: ${JSON.stringify(stored.uploadPrefix)} is not in the owner's uploads; use a prefix under ${own}.`,
        { field: 'dataset.uploadPrefix' },
      );
    }
    dataset = { uploadPrefix: stored.uploadPrefix };
  } else {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      'The job names no dataset: give dataset.folder or dataset.uploadPrefix.',
      { field: 'dataset' },
    );
  }
  // Only the preset's form: the runner's trainer refuses a name it does not know.
  const preset = input.preset;
  if (typeof preset !== 'string' || !PRESET_NAME.test(preset)) throw invalid('needs a preset name');
  const steps = input.steps;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) {
    throw invalid('needs a positive integer "steps"');
  }
  const hyperparameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(isRecord(input.hyperparameters) ? input.hyperparameters : {})) {
    if (typeof value !== 'string') throw invalid(`has a hyperparameter "${key}" that is not a string`);
    hyperparameters[key] = value;
  }
  const modelName = typeof input.modelName === 'string' && input.modelName !== '' ? input.modelName : `tspr-${preset}`;
  return { dataset, preset, steps, hyperparameters, modelName };
}

/**
 * The hyperparameters `peerstyle train --sagemaker` receives for a job, every value a string as
 * SageMaker sends them: the config overrides, then `preset`, `steps` and the model's name, which no
 * override can replace (none of them is a config key, so `parseTrainingRequest` refuses them there).
 */
export function trainerHyperparameters(input: TrainingJobInput): Record<string, string> {
  return {
    ...input.hyperparameters,
    preset: input.preset,
    steps: String(input.steps),
    [MODEL_NAME_HYPERPARAMETER]: input.modelName,
  };
}
