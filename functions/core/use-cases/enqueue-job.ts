/**
 * The step every job submission shares: create the job record (idempotently, within the owner's
 * quota of active jobs), put it on the queue and announce it.
 *
 * A repeated submission with the same idempotency key returns the stored job and does nothing else, so
 * a client that retries after a timeout never starts the work twice.
 */

import type { Job, NewJob } from '../job';
import type { UseCaseDeps } from './deps';

/** Creates, enqueues and publishes a new job, or returns the existing one for a repeated key. */
export async function enqueueJob(
  deps: Pick<UseCaseDeps, 'jobs' | 'queue' | 'events' | 'limits'>,
  request: NewJob,
): Promise<Job> {
  // The record's attempt budget is the operator's (--max-attempts), the same the queue delivers.
  const { job, created, enqueued } = await deps.jobs.create(
    { maxAttempts: deps.limits.maxAttempts, ...request },
    {
      maxActive: deps.limits.maxActiveJobsPerOwner,
      maxActiveTraining: deps.limits.maxActiveTrainingJobsPerOwner,
    },
  );
  if (!created) return job;
  // The owner lets the queue take turns between owners instead of serving one owner's backlog first.
  if (enqueued !== true) await deps.queue.enqueue(job.id, { owner: job.owner });
  await deps.events.publish({ type: 'CREATED', job });
  return job;
}
