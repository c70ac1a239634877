/**
 * `launchTraining`: starts the SageMaker training run of one QUEUED TRAIN job.
 *
 * The API creates the job (through `startTraining`) and then invokes the launcher function with its id;
 * this reads the job, turns its input into the trainer's hyperparameters (every value a string, `preset`
 * and `steps` included, exactly as the local trainer launcher passes them), and creates the training
 * job. The platform job stays QUEUED until SageMaker reports the run InProgress (see
 * `applyTrainingState`); the launch itself is recorded as a message on it.
 *
 * A dataset given as an upload prefix is first copied into `datasets/<jobId>/` in the datasets bucket
 * (the only place the training channel may read), after checking that the prefix lies in the job
 * owner's own upload area: the launcher's role may read every user's uploads, so the owner check here
 * is what keeps one user from training on another's images.
 *
 * Safe to repeat: a job that already left QUEUED is left alone, staging copies onto the same keys, and
 * a second CreateTrainingJob for the same job is refused by SageMaker (the name is derived from the job
 * id), which counts as launched. A job SageMaker can never run (a dataset outside the owner's uploads,
 * too large, or empty) is FAILED with the reason.
 */

import { DomainError, ErrorCode, isDomainError, isRecord, type Job, type JobStore, type JsonValue } from '../../core';
import type { RunDeps } from '../../core/use-cases/run-deps';
import { uploadPrefixFor } from '../../core/use-cases/uploads';
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

/** Where a TRAIN job's images are: a folder under `datasets/`, or an upload prefix still to be staged. */
export type TrainingDataset = { folder: string } | { uploadPrefix: string };

function trainInput(job: Job): Record<string, JsonValue> {
  if (job.kind !== 'TRAIN') {
    throw new DomainError(ErrorCode.BAD_REQUEST, `Job ${job.id} is a ${job.kind} job, not a TRAIN job.`);
  }
  return isRecord(job.input) ? job.input : {};
}

/**
 * The dataset a TRAIN job names. An upload prefix must lie in the owner's own upload area
 * (`uploads/<owner>/`): FORBIDDEN otherwise, since the job row, not the caller, is all the launcher
 * has to go on, and its role can read every user's uploads.
 */
export function trainingDatasetOf(job: Job): TrainingDataset {
  const dataset = (({ dataset: d }) => (isRecord(d) ? d : {}))(trainInput(job));
  if (typeof dataset.folder === 'string') return { folder: dataset.folder };
  if (typeof dataset.uploadPrefix === 'string') {
    const own = uploadPrefixFor(job.owner);
    if (!dataset.uploadPrefix.startsWith(own) || dataset.uploadPrefix.split('/').includes('..')) {
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        `dataset.uploadPrefix: ${JSON.stringify(dataset.uploadPrefix)} is not in the owner's uploads; use a prefix under ${own}.`,
        { field: 'dataset.uploadPrefix' },
      );
    }
    return { uploadPrefix: dataset.uploadPrefix };
  }
  throw new DomainError(
    ErrorCode.BAD_REQUEST,
    'The job names no dataset: give dataset.folder or dataset.uploadPrefix.',
    {
      field: 'dataset',
    },
  );
}

/**
 * The SageMaker request for a TRAIN job's stored input, reading `folder` under `datasets/`;
 * BAD_REQUEST names what cannot be launched.
 */
export function trainingRequestFor(job: Job, folder: string): TrainingJobRequest {
  const input = trainInput(job);
  const hyperparameters: Record<string, string> = {};
  if (isRecord(input.hyperparameters)) {
    for (const [key, value] of Object.entries(input.hyperparameters)) hyperparameters[key] = String(value);
  }
  if (typeof input.preset === 'string') hyperparameters.preset = input.preset;
  if (typeof input.steps === 'number') hyperparameters.steps = String(input.steps);
  return { jobId: job.id, dataset: folder, hyperparameters };
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
  let dataset: TrainingDataset;
  let request: TrainingJobRequest;
  try {
    dataset = trainingDatasetOf(job);
    request = trainingRequestFor(job, 'folder' in dataset ? dataset.folder : job.id);
  } catch (error) {
    if (isDomainError(error, ErrorCode.BAD_REQUEST) || isDomainError(error, ErrorCode.FORBIDDEN)) {
      return fail(deps, job, error);
    }
    throw error;
  }
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
    request = { ...request, dataset: staged.folder };
    await deps.jobs.updateProgress(job.id, {
      stage: 'staged',
      message: {
        level: 'INFO',
        text: `Copied ${staged.objects} images (${staged.bytes} bytes) from ${dataset.uploadPrefix} to datasets/${staged.folder}/${
          staged.skipped > 0 ? `; left out ${staged.skipped} files that are not JPEG, PNG or WebP images` : ''
        }.`,
      },
    });
  }
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
