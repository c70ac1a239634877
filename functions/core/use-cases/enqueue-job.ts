/**
 * The step every job submission shares: create the job record (idempotently, within the owner's
 * quota of active jobs), hand it to its runner (the starter for its kind, when the deployment has one,
 * else the job queue) and announce it.
 *
 * Creating and queueing are one write wherever the store can make them one: the SQLite store puts the
 * queue entry in the job's transaction, and on AWS the job row is an outbox that a stream-fed function
 * relays to the queue or the starter; either store then answers `enqueued: true`, and nothing is sent
 * here, so no crash between two writes can leave a job that never runs.
 *
 * A repeated submission with the same idempotency key returns the stored job and does nothing else, so
 * a client that retries after a timeout never starts the work twice.
 */

import { DomainError, ErrorCode } from '../errors';
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
  if (enqueued !== true) {
    const starter = deps.starters?.[job.kind];
    if (starter !== undefined) await starter.start(job);
    else if (deps.queue !== undefined) {
      // The owner lets the queue take turns between owners instead of serving one backlog first.
      await deps.queue.enqueue(job.id, { owner: job.owner });
    } else {
      throw new DomainError(ErrorCode.INTERNAL, `No queue or starter is configured for ${job.kind} jobs.`);
    }
  }
  await deps.events.publish({ type: 'CREATED', job });
  return job;
}
