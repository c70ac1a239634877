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
 * once per job: a model id is chosen and recorded in the job's messages before anything is copied, the
 * publisher registers under that id idempotently, and the registered model is recorded too before the
 * job is finished; a retry after a failure at any step reuses the id instead of publishing another model.
 */

import { ErrorCode, isDomainError, isTerminal } from '../../core';
import type { Job, JobError, JobStatus, JsonValue, TransitionPatch } from '../../core';
import type { RunDeps } from '../../core/use-cases/run-deps';
import type { ModelPublisher } from './model-package-publisher';
import type { TrainingStateChange } from './training-state-change';

/** What the event did to the job. */
export interface ApplyResult {
  jobId: string;
  action: 'started' | 'progress' | 'succeeded' | 'failed' | 'cancelled' | 'ignored';
  /** Why nothing changed, for `ignored`. */
  reason?: string;
  job: Job | null;
}

/** What `applyTrainingState` uses. */
export interface TrainingStateDeps extends RunDeps {
  /** Unpacks the run's artifact into the models bucket and registers it. */
  publisher: ModelPublisher;
  /** A new time-ordered model id. */
  newModelId: () => string;
}

const REGISTERED = /^Registered model (\S+) \(version \d+\)/;
const RESERVED = /^Publishing model (\S+) from /;
const ATTEMPTS = 3;

/** The model id an earlier delivery registered for this job, if any. */
export function registeredModelId(job: Job): string | null {
  for (const message of job.messages) {
    const match = REGISTERED.exec(message.text);
    if (match) return match[1];
  }
  return null;
}

/** The model id an earlier delivery chose for this job, if any. */
function reservedModelId(job: Job): string | null {
  for (const message of job.messages) {
    const match = RESERVED.exec(message.text);
    if (match) return match[1];
  }
  return null;
}

/** The key of a run's artifact in the models bucket: `training-output/<name>/output/model.tar.gz`. */
export function archiveKeyFor(change: TrainingStateChange): string {
  const match = change.modelArtifacts === null ? null : /^s3:\/\/[^/]+\/(.+)$/.exec(change.modelArtifacts);
  return match ? match[1] : `training-output/${change.trainingJobName}/output/model.tar.gz`;
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

async function registerOnce(
  deps: TrainingStateDeps,
  job: Job,
  change: TrainingStateChange,
): Promise<{ job: Job; modelId: string }> {
  const known = registeredModelId(job);
  if (known !== null) return { job, modelId: known };
  const input = typeof job.input === 'object' && job.input !== null && !Array.isArray(job.input) ? job.input : {};
  const preset = typeof input.preset === 'string' ? input.preset : 'unknown';
  const archiveKey = archiveKeyFor(change);
  let id = reservedModelId(job);
  if (id === null) {
    id = deps.newModelId();
    job = await deps.jobs.updateProgress(job.id, {
      stage: 'publishing model',
      message: { level: 'INFO', text: `Publishing model ${id} from ${archiveKey}.` },
    });
  }
  const model = await deps.publisher.publish({
    id,
    name: typeof input.modelName === 'string' ? input.modelName : `tspr-${preset}`,
    owner: job.owner,
    archiveKey,
    manifest: {
      preset,
      steps: typeof input.steps === 'number' ? input.steps : null,
      trainingJobName: change.trainingJobName,
      artifact: change.modelArtifacts,
    },
  });
  const recorded = await deps.jobs.updateProgress(job.id, {
    stage: 'registering model',
    message: {
      level: 'INFO',
      text: `Registered model ${model.id} (version ${model.version}) from ${model.packagePrefix}.`,
    },
  });
  return { job: recorded, modelId: model.id };
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
