/**
 * The step every job submission shares: create the job record (idempotently), hand it to its runner
 * (the starter for its kind, when the deployment has one, else the job queue) and announce it.
 *
 * A repeated submission with the same idempotency key returns the stored job and does nothing else, so
 * a client that retries after a timeout never starts the work twice.
 */

import type { Job, NewJob } from '../job';
import type { UseCaseDeps } from './deps';

/** Creates, enqueues and publishes a new job, or returns the existing one for a repeated key. */
export async function enqueueJob(
  deps: Pick<UseCaseDeps, 'jobs' | 'queue' | 'starters' | 'events'>,
  request: NewJob,
): Promise<Job> {
  const { job, created } = await deps.jobs.create(request);
  if (!created) return job;
  const starter = deps.starters?.[job.kind];
  if (starter !== undefined) await starter.start(job);
  else await deps.queue.enqueue(job.id);
  await deps.events.publish({ type: 'CREATED', job });
  return job;
}
