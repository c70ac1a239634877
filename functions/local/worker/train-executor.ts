/**
 * The executor for TRAIN jobs: launches the trainer, turns its metric lines into progress reports
 * (progress = step / steps, with the losses as job metrics), and on success hands the model folder to
 * the `onModelTrained` hook, whose return value becomes the job's result. The hook is injected by the
 * composition root, which decides how a trained model becomes a registered model version.
 */

import { DomainError, ErrorCode, badRequest, isRecord } from '../../core';
import type { Job, JsonValue, ProgressUpdate } from '../../core';
import type { TrainerLauncher } from '../../core/ports/trainer-launcher';
import type { DatasetRef, DatasetResolver } from './dataset-resolver';
import type { ExecutionContext, JobExecutor } from '../../worker/job-executor';

/** What a TRAIN job's input holds (as `startTraining` stores it). */
export interface TrainJobInput {
  dataset: DatasetRef;
  preset: string;
  steps: number;
  /** Config overrides, as strings. */
  hyperparameters: Record<string, string>;
  /** Name to register the model under. */
  modelName: string;
}

/** What the hook receives once training has finished. */
export interface TrainedModel {
  job: Job;
  /** The folder holding weights.json and weights.bin. */
  modelDir: string;
  /** The name requested for the model. */
  name: string;
  /** The last iteration reported. */
  lastStep: number | null;
}

/** Turns a trained model folder into something users can stylize with; returns the job's result. */
export type ModelTrainedHook = (trained: TrainedModel) => Promise<JsonValue>;

/** Checks a TRAIN job's input. */
export function parseTrainInput(input: JsonValue): TrainJobInput {
  if (!isRecord(input)) throw badRequest('A training job input must be an object.', 'input');
  const dataset = input.dataset;
  let ref: DatasetRef;
  if (isRecord(dataset) && typeof dataset.folder === 'string') ref = { folder: dataset.folder };
  else if (isRecord(dataset) && typeof dataset.uploadPrefix === 'string') ref = { uploadPrefix: dataset.uploadPrefix };
  else throw badRequest('A training job needs a dataset: { folder } or { uploadPrefix }.', 'input');
  if (typeof input.preset !== 'string') throw badRequest('A training job needs a "preset" string.', 'input');
  if (typeof input.steps !== 'number' || !Number.isInteger(input.steps) || input.steps < 1) {
    throw badRequest('A training job needs a positive integer "steps".', 'input');
  }
  const hyperparameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(isRecord(input.hyperparameters) ? input.hyperparameters : {})) {
    if (typeof value !== 'string') throw badRequest(`Hyperparameter "${key}" must be a string.`, 'input');
    hyperparameters[key] = value;
  }
  return {
    dataset: ref,
    preset: input.preset,
    steps: input.steps,
    hyperparameters,
    modelName: typeof input.modelName === 'string' && input.modelName !== '' ? input.modelName : `tspr-${input.preset}`,
  };
}

/** Builds the TRAIN executor over a launcher and the hook that registers the trained model. */
export function createTrainExecutor(deps: {
  launcher: TrainerLauncher;
  onModelTrained: ModelTrainedHook;
  /** Turns the job's dataset reference into a local folder. */
  resolveDataset: DatasetResolver;
}): JobExecutor {
  return async (job: Job, context: ExecutionContext): Promise<JsonValue> => {
    const input = parseTrainInput(job.input);
    await context.report({ stage: 'preparing dataset', progress: 0 });
    const datasetDir = await deps.resolveDataset(input.dataset, job.id);
    await context.report({ stage: 'starting trainer', progress: 0 });
    // SageMaker's contract: everything, including preset and steps, travels as a string.
    const hyperparameters = { ...input.hyperparameters, preset: input.preset, steps: String(input.steps) };
    let reports: Promise<unknown> = Promise.resolve();
    const enqueue = (update: ProgressUpdate): void => {
      reports = reports.then(() => context.report(update)).catch(() => undefined);
    };
    const outcome = await deps.launcher.train(
      { jobId: job.id, datasetDir, hyperparameters },
      {
        signal: context.signal,
        onMetrics: ({ step, steps, values }) => {
          // JSON cannot carry NaN; a diverged loss is reported as a message instead of a metric.
          const finite = Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
          const dropped = Object.keys(values).filter((k) => !(k in finite));
          enqueue({
            stage: steps === null ? `step ${step}` : `step ${step}/${steps}`,
            ...(steps !== null && steps > 0 ? { progress: Math.min(1, step / steps) } : {}),
            metrics: { step, values: finite },
            ...(dropped.length > 0
              ? { message: { level: 'WARN' as const, text: `Step ${step}: non-finite ${dropped.join(', ')}.` } }
              : {}),
          });
        },
      },
    );
    await reports;
    if (outcome.status === 'STOPPED') {
      // The worker records why it stopped (cancel, shutdown); the checkpoint lets a retry resume.
      throw new DomainError(
        ErrorCode.CANCELLED,
        `Training stopped at step ${outcome.lastStep ?? 0} with a checkpoint.`,
      );
    }
    await context.report({ stage: 'registering model', progress: 1 });
    return deps.onModelTrained({
      job,
      modelDir: outcome.modelDir,
      name: input.modelName,
      lastStep: outcome.lastStep,
    });
  };
}
