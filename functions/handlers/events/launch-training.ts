/**
 * `launchTraining`: starts the SageMaker training run of one QUEUED TRAIN job.
 *
 * The API creates the job (through `startTraining`) and then invokes the launcher function with its id;
 * this reads the job, turns its input into the trainer's hyperparameters (every value a string, `preset`
 * and `steps` included, exactly as the local trainer launcher passes them), and creates the training
 * job. The platform job stays QUEUED until SageMaker reports the run InProgress (see
 * `applyTrainingState`); the launch itself is recorded as a message on it.
 *
 * Safe to repeat: a job that already left QUEUED is left alone, and a second CreateTrainingJob for the
 * same job is refused by SageMaker (the name is derived from the job id), which counts as launched.
 * A job SageMaker can never run (a dataset the training channel cannot reach) is FAILED with the reason.
 */

import { DomainError, ErrorCode, isDomainError, type Job, type JobStore, type JsonValue } from '../../core';
import type { RunDeps } from '../../core/use-cases/run-deps';
import type { TrainingJobRequest, TrainingJobStarted } from '../../adapters/aws';

/** What the launcher function is invoked with. */
export interface TrainingLaunchEvent {
  /** The QUEUED TRAIN job to start. */
  jobId: string;
}

/** The part of `SageMakerTrainingLauncher` used here. */
export interface TrainingRunLauncher {
  launch(request: TrainingJobRequest): Promise<TrainingJobStarted>;
}

/** What the launch did. */
export type LaunchResult =
  | { status: 'launched'; jobId: string; trainingJobName: string }
  | { status: 'already-launched'; jobId: string }
  | { status: 'skipped'; jobId: string; reason: string }
  | { status: 'failed'; jobId: string; reason: string };

const isRecord = (value: JsonValue | undefined): value is Record<string, JsonValue> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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

/** The SageMaker request for a TRAIN job's stored input; BAD_REQUEST names what cannot be launched. */
export function trainingRequestFor(job: Job): TrainingJobRequest {
  if (job.kind !== 'TRAIN') {
    throw new DomainError(ErrorCode.BAD_REQUEST, `Job ${job.id} is a ${job.kind} job, not a TRAIN job.`);
  }
  const input = isRecord(job.input) ? job.input : {};
  const dataset = isRecord(input.dataset) ? input.dataset : {};
  if (typeof dataset.folder !== 'string') {
    // The training channel reads datasets/ in the datasets bucket; uploads live elsewhere.
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      'Training on AWS reads a dataset folder offered by the operator; datasets given as an upload prefix are not supported here.',
      { field: 'dataset' },
    );
  }
  const hyperparameters: Record<string, string> = {};
  if (isRecord(input.hyperparameters)) {
    for (const [key, value] of Object.entries(input.hyperparameters)) hyperparameters[key] = String(value);
  }
  if (typeof input.preset === 'string') hyperparameters.preset = input.preset;
  if (typeof input.steps === 'number') hyperparameters.steps = String(input.steps);
  return { jobId: job.id, dataset: dataset.folder, hyperparameters };
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
  deps: RunDeps & { jobs: JobStore; launcher: TrainingRunLauncher },
  event: TrainingLaunchEvent,
): Promise<LaunchResult> {
  const job = await deps.jobs.get(event.jobId);
  if (job === null)
    throw new DomainError(ErrorCode.NOT_FOUND, `No job with id ${JSON.stringify(event.jobId)}.`, { field: 'jobId' });
  if (job.status !== 'QUEUED') return { status: 'skipped', jobId: job.id, reason: `job is ${job.status}` };
  let request: TrainingJobRequest;
  try {
    request = trainingRequestFor(job);
  } catch (error) {
    if (isDomainError(error, ErrorCode.BAD_REQUEST)) return fail(deps, job, error);
    throw error;
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
