/**
 * Running one stylize job inside an AWS Batch container: claim it, run the shared stylize executor,
 * finish it.
 *
 * Batch, not a queue lease, decides which container runs a job, so the lease-based worker loop does
 * not fit; its parts do. `claimJob` moves the job QUEUED → RUNNING (or says why not), the executor the
 * local worker uses does the work, `reportProgress` and `finishJob` record it. Two cases are specific
 * to Batch. A job already RUNNING on the first Batch attempt belongs to another container (the stylize
 * message was delivered twice), so this one leaves it alone; on a later attempt, Batch is retrying
 * after the previous container's host went away, so the job is taken over (`claimJob` requeues it
 * first, counting the attempt). And the owner's cancel request is noticed by polling the job record,
 * since no queue heartbeat carries it.
 */

import { DomainError, ErrorCode, isDomainError, type Job, type JobStore } from '../core';
import { claimJob } from '../core/use-cases/run-claim-job';
import type { RunDeps } from '../core/use-cases/run-deps';
import { finishJob, type RunOutcome } from '../core/use-cases/run-finish-job';
import { reportProgress } from '../core/use-cases/run-report-progress';
import type { JobExecutor } from './job-executor';
import { toJobError } from './job-error';

/** What the run needs. */
export interface BatchRunDeps extends RunDeps {
  jobs: JobStore;
  /** The STYLIZE executor (see `createStylizeExecutor`), writing under `BLOB_PREFIXES.out`. */
  stylize: JobExecutor;
}

/** How to run. */
export interface BatchRunOptions {
  /** Batch's attempt number (AWS_BATCH_JOB_ATTEMPT), 1 on the first. @default 1 */
  batchAttempt?: number;
  /** Aborted when the container is told to stop (SIGTERM). */
  signal?: AbortSignal;
  /** How often to look for a cancel request, in milliseconds. @default 5000 */
  cancelPollMs?: number;
}

/** How the run ended. */
export type BatchRunResult = { status: 'skipped'; reason: string } | { status: RunOutcome['status']; job: Job };

/** Claims, runs and finishes the STYLIZE job `jobId`. */
export async function runBatchStylizeJob(
  deps: BatchRunDeps,
  jobId: string,
  options: BatchRunOptions = {},
): Promise<BatchRunResult> {
  const attempt = options.batchAttempt ?? 1;
  const current = await deps.jobs.get(jobId);
  if (current === null) return { status: 'skipped', reason: `job ${jobId} does not exist` };
  if (current.status === 'RUNNING' && attempt <= 1) {
    return { status: 'skipped', reason: 'another container is running it' };
  }
  // Only the job id of the lease is read; Batch holds the real claim on the container.
  const claim = await claimJob(deps, {
    jobId,
    receipt: `batch-${jobId}`,
    attempt,
    expiresAt: new Date(0).toISOString(),
  });
  if (claim.action === 'skip') return { status: 'skipped', reason: claim.reason };
  const job = claim.job;

  const controller = new AbortController();
  let cancelled = false;
  const stop = (): void => controller.abort(new DomainError(ErrorCode.CANCELLED, `Job ${jobId} was stopped.`));
  options.signal?.addEventListener('abort', stop);
  const poll = setInterval(() => {
    void deps.jobs.get(jobId).then(
      (latest) => {
        if (latest?.cancelRequested) {
          cancelled = true;
          stop();
        }
      },
      () => undefined, // a missed poll is retried at the next tick
    );
  }, options.cancelPollMs ?? 5000);

  let outcome: RunOutcome;
  try {
    if (job.kind !== 'STYLIZE') {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `Job ${jobId} is a ${job.kind} job; the stylize worker runs STYLIZE jobs only.`,
      );
    }
    const result = await deps.stylize(job, {
      signal: controller.signal,
      report: async (update) => {
        await reportProgress(deps, jobId, update);
      },
    });
    outcome = cancelled ? { status: 'CANCELLED' } : { status: 'SUCCEEDED', result };
  } catch (error) {
    outcome = cancelled ? { status: 'CANCELLED' } : { status: 'FAILED', error: toJobError(error) };
  } finally {
    clearInterval(poll);
    options.signal?.removeEventListener('abort', stop);
  }
  if (options.signal?.aborted && !cancelled) {
    // The container is being stopped (a Spot reclaim or a Batch timeout): leave the job RUNNING for
    // Batch's retry to take over, rather than failing work that may yet succeed.
    return { status: 'skipped', reason: 'the container was stopped' };
  }
  try {
    return { status: outcome.status, job: await finishJob(deps, jobId, outcome) };
  } catch (error) {
    // CONFLICT: another container finished it first; its record stands.
    if (!isDomainError(error, ErrorCode.CONFLICT)) throw error;
    return { status: 'skipped', reason: 'another container finished it first' };
  }
}
