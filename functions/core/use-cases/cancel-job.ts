/**
 * Stopping a cancelled training run. `cancelJob` flags a RUNNING job and publishes CANCEL_REQUESTED;
 * a stylize worker sees the flag and winds down, but a training run on a remote service (SageMaker)
 * never reads the jobs table, so the request has to be passed on to that service. This use case does
 * that, and `stopTrainingOnCancel` wires it into the job events of the process that cancels (the
 * GraphQL function), so that the cancel mutation itself stays transport- and cloud-agnostic.
 */

import type { Job } from '../job';
import type { JobEvent, JobEvents, JobEventFilter, JobSubscription } from '../ports/job-events';
import type { TrainingStopper } from '../ports/training-stopper';

/** What {@link stopCancelledTraining} uses. */
export interface CancelTrainingDeps {
  stopper: TrainingStopper;
}

/**
 * Stops the training run of `job` when it is a RUNNING TRAIN job whose owner asked to cancel it;
 * returns whether it asked. QUEUED jobs are cancelled outright and have no run to stop.
 */
export async function stopCancelledTraining(deps: CancelTrainingDeps, job: Job): Promise<boolean> {
  if (job.kind !== 'TRAIN' || job.status !== 'RUNNING' || !job.cancelRequested) return false;
  await deps.stopper.stop(job.id);
  return true;
}

/**
 * Job events that also stop a training run when its cancellation is requested. The stop is asked
 * before the event is passed on, so a failure to ask fails the cancel call, and the caller can retry.
 */
export function stopTrainingOnCancel(events: JobEvents, stopper: TrainingStopper): JobEvents {
  return {
    async publish(event: JobEvent): Promise<void> {
      if (event.type === 'CANCEL_REQUESTED') await stopCancelledTraining({ stopper }, event.job);
      await events.publish(event);
    },
    subscribe(filter: JobEventFilter): JobSubscription {
      return events.subscribe(filter);
    },
  };
}
