/**
 * The step every job submission shares: create the job record (idempotently, within the owner's
 * quota of active jobs), hand it to its runner (the starter for its kind, when the deployment has one,
 * else the job queue) and announce it.
 *
 * A repeated submission with the same idempotency key returns the stored job and does nothing else, so
 * a client that retries after a timeout never starts the work twice.
 */

import type { Job, NewJob } from '../job';
import type { UseCaseDeps } from './deps';

/** Creates, enqueues and publishes a new job, or returns the existing one for a repeated key. */
export async function enqueueJob(
  deps: Pick<UseCaseDeps, 'jobs' | 'queue' | 'starters' | 'events' | 'limits'>,
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
  const starter = deps.starters?.[job.kind];
  // A store that queues the job in its create transaction (SQLite) serves deployments without
  // starters; the owner lets the queue take turns between owners instead of serving one backlog first.
  if (starter !== undefined) await starter.start(job);
  else if (enqueued !== true) await deps.queue.enqueue(job.id, { owner: job.owner });
  await deps.events.publish({ type: 'CREATED', job });
  return job;
}
