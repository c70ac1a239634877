/**
 * Finishing a running job: SUCCEEDED with its result, FAILED with a code and message, or CANCELLED
 * because its owner asked. Each is one compare-and-set from RUNNING followed by a STATUS_CHANGED event,
 * so a worker that lost its lease (and whose job another worker now runs) gets CONFLICT instead of
 * overwriting the newer attempt.
 */

import { ErrorCode } from '../errors';
import type { Job, JobError } from '../job';
import type { JsonValue } from '../json';
import type { RunDeps } from './run-deps';

/** How a run ended. */
export type RunOutcome =
  { status: 'SUCCEEDED'; result: JsonValue } | { status: 'FAILED'; error: JobError } | { status: 'CANCELLED' };

/** Moves a RUNNING job to its terminal status and publishes the change. */
export async function finishJob(deps: RunDeps, jobId: string, outcome: RunOutcome): Promise<Job> {
  let job: Job;
  switch (outcome.status) {
    case 'SUCCEEDED':
      job = await deps.jobs.transition(jobId, 'RUNNING', 'SUCCEEDED', { result: outcome.result, stage: 'done' });
      break;
    case 'FAILED':
      job = await deps.jobs.transition(jobId, 'RUNNING', 'FAILED', {
        error: outcome.error,
        stage: 'failed',
        message: { level: 'ERROR', text: `${outcome.error.code}: ${outcome.error.message}` },
      });
      break;
    case 'CANCELLED':
      job = await deps.jobs.transition(jobId, 'RUNNING', 'CANCELLED', {
        stage: 'cancelled',
        error: { code: ErrorCode.CANCELLED, message: 'Cancelled at the owner’s request.' },
      });
      break;
  }
  await deps.events.publish({ type: 'STATUS_CHANGED', job });
  return job;
}
