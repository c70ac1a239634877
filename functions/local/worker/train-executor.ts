/**
 * The executor for TRAIN jobs: reads the job's input (`trainingInputOf`, the reader the AWS runtime
 * uses too), launches the trainer with the dataset staged into its run folder and the hyperparameters
 * both runtimes give it (`trainerHyperparameters`), turns its metric lines into progress reports
 * (progress = step / steps, with the losses as job metrics), and on success hands the run's model
 * folder, which holds the package the trainer exported, to the `onModelTrained` hook, whose return
 * value becomes the job's result. The hook is injected by the composition root, which decides how a
 * trained model becomes a registered model version.
 */

import { DomainError, ErrorCode } from '../../core';
import type { Job, JsonValue, ProgressUpdate } from '../../core';
import { trainerHyperparameters, trainingInputOf } from '../../core/use-cases';
import type { TrainerLauncher } from '../../core/ports/trainer-launcher';
import type { DatasetCopier } from './dataset-copier';
import type { ExecutionContext, JobExecutor } from '../../worker/job-executor';

/** What the hook receives once training has finished. */
export interface TrainedModel {
  job: Job;
  /** The run's model folder: the exported package (manifest.json, graphs) beside the weights. */
  modelDir: string;
  /** The last iteration reported. */
  lastStep: number | null;
}

/** Turns a trained model folder into something users can stylize with; returns the job's result. */
export type ModelTrainedHook = (trained: TrainedModel) => Promise<JsonValue>;

/** Builds the TRAIN executor over a launcher and the hook that registers the trained model. */
export function createTrainExecutor(deps: {
  launcher: TrainerLauncher;
  onModelTrained: ModelTrainedHook;
  /** Copies the job's dataset into the run's training channel. */
  copyDataset: DatasetCopier;
}): JobExecutor {
  return async (job: Job, context: ExecutionContext): Promise<JsonValue> => {
    const input = trainingInputOf(job);
    await context.report({ stage: 'preparing dataset', progress: 0 });
    let reports: Promise<unknown> = Promise.resolve();
    const enqueue = (update: ProgressUpdate): void => {
      reports = reports.then(() => context.report(update)).catch(() => undefined);
    };
    const outcome = await deps.launcher.train(
      {
        jobId: job.id,
        stageDataset: async (channelDir) => {
          await deps.copyDataset(input.dataset, channelDir);
          await context.report({ stage: 'starting trainer', progress: 0 });
        },
        hyperparameters: trainerHyperparameters(input),
      },
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
    return deps.onModelTrained({ job, modelDir: outcome.modelDir, lastStep: outcome.lastStep });
  };
}
