/**
 * Failing jobs the queue gave up on. A job delivered `maxAttempts` times without an acknowledgement is
 * dead-lettered by the queue; this use case marks each such job FAILED with RETRIES_EXHAUSTED and the
 * queue's reason, then removes the dead letter. It is safe to run from several workers at once: a job
 * someone else already finished is left alone.
 */

import { ErrorCode, isDomainError } from '../errors';
import { isTerminal, type Job } from '../job';
import type { JobQueue } from '../ports/job-queue';
import type { RunDeps } from './run-deps';

/** The ports this use case needs: the run ports plus the queue holding the dead letters. */
export interface DeadLetterDeps extends RunDeps {
  queue: JobQueue;
}

/** Fails up to `limit` dead-lettered jobs; returns the jobs it failed. */
export async function failDeadLetteredJobs(deps: DeadLetterDeps, limit = 10): Promise<Job[]> {
  const failed: Job[] = [];
  for (const letter of await deps.queue.receiveDeadLetters(limit)) {
    const job = await deps.jobs.get(letter.jobId);
    if (job !== null && !isTerminal(job.status)) {
      try {
        const next = await deps.jobs.transition(job.id, job.status, 'FAILED', {
          stage: 'failed',
          error: { code: ErrorCode.RETRIES_EXHAUSTED, message: letter.reason },
          message: { level: 'ERROR', text: letter.reason },
        });
        await deps.events.publish({ type: 'STATUS_CHANGED', job: next });
        failed.push(next);
      } catch (error) {
        // Another janitor got there first; the letter is still ours to remove.
        if (!isDomainError(error, ErrorCode.CONFLICT)) throw error;
      }
    }
    await deps.queue.ackDeadLetter(letter.receipt);
  }
  return failed;
}
