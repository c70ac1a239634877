/**
 * Putting a job back after its worker vanished. When a lease runs out, the queue redelivers the job,
 * but the record still says RUNNING from the dead attempt; the next worker moves it RUNNING → QUEUED
 * (reason LEASE_LOST) before claiming it again. When the dead attempt was the last one allowed, the job
 * is failed with RETRIES_EXHAUSTED instead, since the state machine forbids another start.
 */

import { ErrorCode } from '../errors';
import type { Job } from '../job';
import type { RunDeps } from './run-deps';

/** Requeues a RUNNING job whose lease was lost, or fails it when no attempts remain. */
export async function retryAfterLostLease(deps: RunDeps, job: Job): Promise<Job> {
  if (job.attempts >= job.maxAttempts) {
    const failed = await deps.jobs.transition(job.id, 'RUNNING', 'FAILED', {
      stage: 'failed',
      error: {
        code: ErrorCode.RETRIES_EXHAUSTED,
        message: `The worker running attempt ${job.attempts} of ${job.maxAttempts} stopped responding; no attempts remain.`,
      },
    });
    await deps.events.publish({ type: 'STATUS_CHANGED', job: failed });
    return failed;
  }
  const queued = await deps.jobs.transition(job.id, 'RUNNING', 'QUEUED', {
    requeueReason: 'LEASE_LOST',
    message: { level: 'WARN', text: `Attempt ${job.attempts} lost its worker; retrying.` },
  });
  await deps.events.publish({ type: 'STATUS_CHANGED', job: queued });
  return queued;
}
