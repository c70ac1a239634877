/**
 * Claiming a job for a lease the queue handed out: QUEUED → RUNNING, or a reason to skip it.
 *
 * Deliveries are at least once, so the job may be in any state when its lease arrives: already
 * finished (a duplicate delivery), cancelled while queued (it must never start), or still RUNNING from
 * an attempt whose worker died (it is requeued first, or failed when that was the last attempt). The
 * worker acknowledges skipped leases, so a job in a terminal state leaves the queue for good.
 */

import { isDomainError, ErrorCode } from '../errors';
import { isTerminal, type Job } from '../job';
import type { Lease } from '../ports/job-queue';
import type { RunDeps } from './run-deps';
import { retryAfterLostLease } from './run-retry-job';

/** What the worker should do with a lease. */
export type Claim = { action: 'run'; job: Job } | { action: 'skip'; reason: string; job: Job | null };

/** Claims the leased job for running, or explains why it must not run. */
export async function claimJob(deps: RunDeps, lease: Lease): Promise<Claim> {
  let job = await deps.jobs.get(lease.jobId);
  if (job === null) return { action: 'skip', reason: `job ${lease.jobId} does not exist`, job: null };
  if (job.status === 'RUNNING') {
    if (job.cancelRequested) {
      // Its worker died before honouring the cancel request; there is nothing left to stop.
      const cancelled = await deps.jobs.transition(job.id, 'RUNNING', 'CANCELLED', { stage: 'cancelled' });
      await deps.events.publish({ type: 'STATUS_CHANGED', job: cancelled });
      return { action: 'skip', reason: 'cancelled while its worker was gone', job: cancelled };
    }
    job = await retryAfterLostLease(deps, job);
  }
  if (isTerminal(job.status)) return { action: 'skip', reason: `job is ${job.status}`, job };
  try {
    const running = await deps.jobs.transition(job.id, 'QUEUED', 'RUNNING', {
      stage: 'starting',
      message: { level: 'INFO', text: `Attempt ${job.attempts + 1} of ${job.maxAttempts} started.` },
    });
    await deps.events.publish({ type: 'STATUS_CHANGED', job: running });
    return { action: 'run', job: running };
  } catch (error) {
    // Cancelled (or claimed elsewhere) between the read and the write: the stored state wins.
    if (isDomainError(error, ErrorCode.CONFLICT)) {
      return { action: 'skip', reason: 'its status changed while being claimed', job: await deps.jobs.get(job.id) };
    }
    throw error;
  }
}
