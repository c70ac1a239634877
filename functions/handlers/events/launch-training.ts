/**
 * `launchTraining`: starts the SageMaker training run of one QUEUED TRAIN job.
 *
 * The API creates the job (through `startTraining`) and then invokes the launcher function with its id;
 * this reads the job's input (`trainingInputOf`, the reader the local runtime uses too), turns it into
 * the trainer's hyperparameters (`trainerHyperparameters`, which the local trainer launcher is given
 * too), and creates the training job. The platform job stays QUEUED until SageMaker reports the run InProgress (see
 * `applyTrainingState`); the launch itself is recorded as a message on it.
 *
 * A dataset given as an upload prefix is first copied into `datasets/<jobId>/` in the datasets bucket
 * (the only place the training channel may read). The reader checks that the prefix lies in the job
 * owner's own upload area: the launcher's role may read every user's uploads, so that check is what
 * keeps one user from training on another's images.
 *
 * Safe to repeat: a job that already left QUEUED is left alone, staging copies onto the same keys, and
 * a second CreateTrainingJob for the same job is refused by SageMaker (the name is derived from the job
 * id), which counts as launched. A job SageMaker can never run (a dataset outside the owner's uploads,
 * too large, or empty) is FAILED with the reason.
 */

import { BLOB_PREFIXES, DomainError, ErrorCode, isDomainError, type Job, type JobStore } from '../../core';
import { trainerHyperparameters, trainingInputOf, type TrainingJobInput } from '../../core/use-cases';
import type { RunDeps } from '../../core/use-cases/run-deps';
import type { StageDatasetRequest, StagedDataset, TrainingJobRequest, TrainingJobStarted } from '../../adapters/aws';

/** What the launcher function is invoked with. */
export interface TrainingLaunchEvent {
  /** The QUEUED TRAIN job to start. */
  jobId: string;
}

/** The part of `SageMakerTrainingLauncher` used here. */
export interface TrainingRunLauncher {
  launch(request: TrainingJobRequest): Promise<TrainingJobStarted>;
}

/** The part of `S3DatasetStager` used here. */
export interface DatasetStager {
  stage(request: StageDatasetRequest): Promise<StagedDataset>;
}

/** Errors from staging that say the dataset itself can never be trained on, so the job is FAILED. */
const DATASET_ERRORS: readonly ErrorCode[] = [ErrorCode.BAD_REQUEST, ErrorCode.NOT_FOUND, ErrorCode.TOO_LARGE];

/** What the launch did. */
export type LaunchResult =
  | { status: 'launched'; jobId: string; trainingJobName: string }
  | { status: 'already-launched'; jobId: string }
  | { status: 'skipped'; jobId: string; reason: string }
  | { status: 'failed'; jobId: string; reason: string };

/** Checks the launcher function's payload. */
export function parseLaunchEvent(event: unknown): TrainingLaunchEvent {
  const jobId = typeof event === 'object' && event !== null ? (event as { jobId?: unknown }).jobId : undefined;
  if (typeof jobId !== 'string' || jobId.length === 0) {
    throw new DomainError(ErrorCode.BAD_REQUEST, 'The training launcher is invoked with {"jobId": "<id>"}.', {
      field: 'jobId',
    });
  }
  return { jobId };
}

async function fail(deps: RunDeps, job: Job, error: DomainError): Promise<LaunchResult> {
  try {
    const failed = await deps.jobs.transition(job.id, 'QUEUED', 'FAILED', {
      stage: 'failed',
      error: { code: error.code, message: error.message },
      message: { level: 'ERROR', text: `${error.code}: ${error.message}` },
    });
    await deps.events.publish({ type: 'STATUS_CHANGED', job: failed });
  } catch (cause) {
    // CONFLICT: the job moved on meanwhile (cancelled, say); its stored state stands.
    if (!isDomainError(cause, ErrorCode.CONFLICT)) throw cause;
  }
  return { status: 'failed', jobId: job.id, reason: error.message };
}

/** Starts the training run of `jobId`. Service failures propagate, so the invocation can be retried. */
export async function launchTraining(
  deps: RunDeps & { jobs: JobStore; launcher: TrainingRunLauncher; stager: DatasetStager },
  event: TrainingLaunchEvent,
): Promise<LaunchResult> {
  const job = await deps.jobs.get(event.jobId);
  if (job === null)
    throw new DomainError(ErrorCode.NOT_FOUND, `No job with id ${JSON.stringify(event.jobId)}.`, { field: 'jobId' });
  if (job.status !== 'QUEUED') return { status: 'skipped', jobId: job.id, reason: `job is ${job.status}` };
  let input: TrainingJobInput;
  try {
    input = trainingInputOf(job);
  } catch (error) {
    if (isDomainError(error, ErrorCode.BAD_REQUEST) || isDomainError(error, ErrorCode.FORBIDDEN)) {
      return fail(deps, job, error);
    }
    throw error;
  }
  const { dataset } = input;
  let folder = 'folder' in dataset ? dataset.folder : job.id;
  if ('uploadPrefix' in dataset) {
    let staged: StagedDataset;
    try {
      staged = await deps.stager.stage({ jobId: job.id, sourcePrefix: dataset.uploadPrefix });
    } catch (error) {
      // An AWS denial or outage while copying (FORBIDDEN, UNAVAILABLE) is the deployment's fault, not
      // the dataset's: it propagates, so the invocation is retried and the job stays QUEUED.
      if (error instanceof DomainError && DATASET_ERRORS.includes(error.code)) return fail(deps, job, error);
      throw error;
    }
    folder = staged.folder;
    await deps.jobs.updateProgress(job.id, {
      stage: 'staged',
      message: {
        level: 'INFO',
        text: `Copied ${staged.objects} images (${staged.bytes} bytes) from ${dataset.uploadPrefix} to ${BLOB_PREFIXES.datasets}${staged.folder}/${
          staged.skipped > 0 ? `; left out ${staged.skipped} files that are not JPEG, PNG or WebP images` : ''
        }.`,
      },
    });
  }
  const request: TrainingJobRequest = {
    jobId: job.id,
    dataset: folder,
    hyperparameters: trainerHyperparameters(input),
  };
  let started: TrainingJobStarted;
  try {
    started = await deps.launcher.launch(request);
  } catch (error) {
    if (isDomainError(error, ErrorCode.CONFLICT)) return { status: 'already-launched', jobId: job.id };
    if (isDomainError(error, ErrorCode.BAD_REQUEST)) return fail(deps, job, error);
    throw error;
  }
  const updated = await deps.jobs.updateProgress(job.id, {
    stage: 'launched',
    message: { level: 'INFO', text: `SageMaker training job ${started.trainingJobName} created.` },
  });
  await deps.events.publish({ type: 'PROGRESS', job: updated });
  return { status: 'launched', jobId: job.id, trainingJobName: started.trainingJobName };
}
