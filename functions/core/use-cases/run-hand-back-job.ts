/**
 * Handing a running job back when its worker shuts down cleanly (SIGTERM, Ctrl-C, a pool stop).
 *
 * Nothing went wrong with the job, so the attempt it was on is given back: the record moves RUNNING →
 * QUEUED with `requeueReason: 'SHUTDOWN'` (which lowers `attempts` again) and the lease is released
 * without counting the delivery. Restarting a server any number of times therefore never fails a job
 * with RETRIES_EXHAUSTED; only workers that vanish (a crash, `kill -9`) use up attempts.
 */

import { ErrorCode, isDomainError } from '../errors';
import type { JobQueue, Lease } from '../ports/job-queue';
import type { RunDeps } from './run-deps';

/** Requeues `jobId` without counting its attempt and releases `lease` uncounted. */
export async function handBackJob(deps: RunDeps & { queue: JobQueue }, jobId: string, lease: Lease): Promise<void> {
  try {
    const queued = await deps.jobs.transition(jobId, 'RUNNING', 'QUEUED', {
      requeueReason: 'SHUTDOWN',
      message: { level: 'INFO', text: 'Handed back at worker shutdown; this attempt does not count.' },
    });
    await deps.events.publish({ type: 'STATUS_CHANGED', job: queued });
  } catch (error) {
    // CONFLICT: the job was finished or cancelled meanwhile; the next claim sees that and skips it.
    if (!isDomainError(error, ErrorCode.CONFLICT)) throw error;
  }
  await deps.queue.release(lease.receipt, { countDelivery: false });
}
