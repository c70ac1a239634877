/**
 * `applyTrainingState`: moves a TRAIN job as its SageMaker run reports state changes, and registers
 * the trained model when the run completes.
 *
 *     InProgress → QUEUED becomes RUNNING; later InProgress events update the stage
 *     Stopping   → the stage says so
 *     Completed  → the package is published and registered, then the job is SUCCEEDED with { modelId }
 *     Failed     → FAILED with SageMaker's reason
 *     Stopped    → CANCELLED when the owner asked, otherwise FAILED (SageMaker stopped it on a limit)
 *
 * Every status change is a compare-and-set on the job store, and the handling is idempotent, because
 * EventBridge delivers at least once and retries failures: an event for a job already past it changes
 * nothing; a lost race (CONFLICT) re-reads the job and applies the event again. Publishing happens
 * once per job: `publishTrainedModel`, which the local runtime uses too, records the model id on the
 * job (`trainedModelId`) before anything is copied, so a retry after a failure at any step registers
 * that same model, never a second one.
 */

import { BLOB_PREFIXES, ErrorCode, isDomainError, isTerminal } from '../../core';
import type { Job, JobError, JobStatus, JsonValue, TransitionPatch } from '../../core';
import { publishTrainedModel, trainingInputOf, type PublishDeps } from '../../core/use-cases';
import type { RunDeps } from '../../core/use-cases/run-deps';
import { archivePackageSource } from './archive-package-source';
import type { TrainingStateChange } from './training-state-change';

/** What the event did to the job. */
export interface ApplyResult {
  jobId: string;
  action: 'started' | 'progress' | 'succeeded' | 'failed' | 'cancelled' | 'ignored';
  /** Why nothing changed, for `ignored`. */
  reason?: string;
  job: Job | null;
}

/**
 * What `applyTrainingState` uses: the jobs table, the catalog table as the model registry, and the
 * models bucket (`blobs`), which holds the runs' artifacts under `training-output/` and the registered
 * packages under `models/`.
 */
export type TrainingStateDeps = PublishDeps & RunDeps;

const ATTEMPTS = 3;

/** The key of a run's artifact in the models bucket: `training-output/<name>/output/model.tar.gz`. */
export function archiveKeyFor(change: TrainingStateChange): string {
  const match = change.modelArtifacts === null ? null : /^s3:\/\/[^/]+\/(.+)$/.exec(change.modelArtifacts);
  return match?.[1] ?? `${BLOB_PREFIXES.trainingOutput}${change.trainingJobName}/output/model.tar.gz`;
}

function failureFor(change: TrainingStateChange): JobError {
  if (change.status === 'Stopped') {
    return {
      code: ErrorCode.INTERNAL,
      message: `SageMaker stopped training run ${change.trainingJobName} (${change.secondaryStatus ?? 'no reason given'}).`,
    };
  }
  const reason = change.failureReason ?? 'no reason given';
  // Capacity shortages pass; everything else is the run's own failure.
  const code = /capacity/i.test(reason) ? ErrorCode.UNAVAILABLE : ErrorCode.INTERNAL;
  return { code, message: `Training run ${change.trainingJobName} failed: ${reason}` };
}

async function move(deps: RunDeps, job: Job, to: JobStatus, patch: TransitionPatch): Promise<Job> {
  const moved = await deps.jobs.transition(job.id, job.status, to, patch);
  await deps.events.publish({ type: 'STATUS_CHANGED', job: moved });
  return moved;
}

/** Registers the run's exported package as the job's model (once per job, see `publishTrainedModel`). */
async function registerOnce(
  deps: TrainingStateDeps,
  job: Job,
  change: TrainingStateChange,
): Promise<{ job: Job; modelId: string }> {
  const published = await publishTrainedModel(deps, job, archivePackageSource(deps.blobs, archiveKeyFor(change)), {
    steps: trainingInputOf(job).steps,
    trainingJobName: change.trainingJobName,
    artifact: change.modelArtifacts,
  });
  return { job: published.job, modelId: published.model.id };
}

async function applyOnce(deps: TrainingStateDeps, change: TrainingStateChange): Promise<ApplyResult> {
  const jobId = change.jobId;
  let job = await deps.jobs.get(jobId);
  if (job === null) return { jobId, action: 'ignored', reason: 'no such job', job };
  if (isTerminal(job.status)) return { jobId, action: 'ignored', reason: `job is already ${job.status}`, job };
  if (job.kind !== 'TRAIN') return { jobId, action: 'ignored', reason: `job is a ${job.kind} job`, job };
  const stage = change.secondaryStatus ?? 'training';

  switch (change.status) {
    case 'InProgress':
    case 'Stopping': {
      const wanted = change.status === 'Stopping' ? 'stopping' : stage;
      if (job.status === 'QUEUED') {
        job = await move(deps, job, 'RUNNING', {
          stage: wanted,
          message: { level: 'INFO', text: `Training run ${change.trainingJobName} started.` },
        });
        return { jobId, action: 'started', job };
      }
      if (job.stage === wanted) return { jobId, action: 'ignored', reason: `already at stage ${wanted}`, job };
      job = await deps.jobs.updateProgress(jobId, { stage: wanted });
      await deps.events.publish({ type: 'PROGRESS', job });
      return { jobId, action: 'progress', job };
    }
    case 'Completed': {
      // A run can complete before its InProgress event arrives (delivery is unordered).
      if (job.status === 'QUEUED') job = await move(deps, job, 'RUNNING', { stage });
      const registered = await registerOnce(deps, job, change);
      const result: JsonValue = {
        modelId: registered.modelId,
        trainingJobName: change.trainingJobName,
        artifact: change.modelArtifacts,
      };
      job = await move(deps, registered.job, 'SUCCEEDED', { stage: 'done', result });
      return { jobId, action: 'succeeded', job };
    }
    case 'Failed':
      job = await move(deps, job, 'FAILED', { stage: 'failed', error: failureFor(change) });
      return { jobId, action: 'failed', job };
    case 'Stopped':
      if (job.cancelRequested) {
        job = await move(deps, job, 'CANCELLED', { stage: 'cancelled' });
        return { jobId, action: 'cancelled', job };
      }
      job = await move(deps, job, 'FAILED', { stage: 'failed', error: failureFor(change) });
      return { jobId, action: 'failed', job };
  }
}

/** Applies one state change; CONFLICT from a concurrent writer is retried against the fresh record. */
export async function applyTrainingState(deps: TrainingStateDeps, change: TrainingStateChange): Promise<ApplyResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyOnce(deps, change);
    } catch (error) {
      if (!isDomainError(error, ErrorCode.CONFLICT) || attempt >= ATTEMPTS) throw error;
    }
  }
}
