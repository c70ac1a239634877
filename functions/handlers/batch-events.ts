/**
 * Lambda entry point: EventBridge "Batch Job State Change" events for the stylize job queue fail the
 * platform job whose Batch job ended without the worker container finishing it.
 *
 * The worker moves its job RUNNING → SUCCEEDED/FAILED itself, but when the container never starts
 * (the queue cancelled it for want of capacity, the image could not be pulled), when the host was
 * lost and Batch's retries ran out, or when the container crashed, nothing else would ever touch the
 * job row, and its owner would watch a QUEUED or RUNNING job forever. Only FAILED events are routed
 * here: a Batch job that SUCCEEDED either finished its job or found it was another container's
 * (a twice-delivered stylize message), so a non-terminal row at that point is not evidence of loss.
 *
 * Every change is a compare-and-set through the job store (and so through `transitionJob`): a job
 * already terminal is left alone, a lost race re-reads and decides again, so repeated or late
 * deliveries change nothing. A malformed event is logged and dropped, since a retry cannot mend it;
 * a store failure is thrown, so EventBridge retries and finally dead-letters the delivery.
 */

import type { EventBridgeEvent } from 'aws-lambda';
import { ErrorCode, isDomainError, isTerminal, type Job, type JobError, type JobStore } from '../core';
import { jobStoreFromEnv } from '../wiring/aws';

/** The EventBridge detail-type AWS Batch uses for job status. */
export const BATCH_JOB_STATE_CHANGE = 'Batch Job State Change';

/** The Batch job name prefix the stylize launcher uses, `stylize-<job id>`. */
const JOB_NAME_PREFIX = 'stylize-';
/** The tag the launcher puts on every Batch job; kept as a second source for the job id. */
const JOB_ID_TAG = 'peerstyle:job-id';
/** The job definition's default for the `jobId` parameter, which a submitted job always overrides. */
const UNSET_PARAMETER = 'unset';
/** Compare-and-set rounds before giving up and letting EventBridge retry. */
const MAX_ROUNDS = 3;

/** The fields of a Batch job state change this handler reads. */
export interface BatchJobDetail {
  jobName?: string;
  jobId?: string;
  status?: string;
  statusReason?: string;
  parameters?: Record<string, string>;
  tags?: Record<string, string>;
  attempts?: { statusReason?: string; container?: { exitCode?: number; reason?: string } }[];
}

/** What the event did to the job. */
export interface BatchEventResult {
  action: 'failed' | 'ignored' | 'dropped';
  jobId: string | null;
  reason?: string;
  job?: Job;
}

/** The platform job id the Batch job ran for: its `jobId` parameter, else its tag, else its name. */
export function jobIdOf(detail: BatchJobDetail): string | null {
  const parameter = detail.parameters?.jobId;
  if (typeof parameter === 'string' && parameter !== '' && parameter !== UNSET_PARAMETER) return parameter;
  const tag = detail.tags?.[JOB_ID_TAG];
  if (typeof tag === 'string' && tag !== '') return tag;
  const name = detail.jobName;
  if (typeof name === 'string' && name.startsWith(JOB_NAME_PREFIX) && name.length > JOB_NAME_PREFIX.length) {
    return name.slice(JOB_NAME_PREFIX.length);
  }
  return null;
}

/**
 * The error recorded on the job. A job that never got a container is a capacity problem the owner may
 * simply retry (UNAVAILABLE); one that ran more than once lost its hosts until Batch stopped retrying
 * (RETRIES_EXHAUSTED); anything else is the container's own crash (INTERNAL).
 */
export function batchFailure(detail: BatchJobDetail): JobError {
  const attempts = detail.attempts ?? [];
  const last = attempts[attempts.length - 1];
  const reason = detail.statusReason ?? last?.container?.reason ?? last?.statusReason ?? 'AWS Batch gave no reason';
  const name = detail.jobName ?? detail.jobId ?? 'unknown';
  if (attempts.length === 0) {
    return { code: ErrorCode.UNAVAILABLE, message: `The GPU worker never started (Batch job ${name}): ${reason}` };
  }
  if (attempts.length > 1) {
    return {
      code: ErrorCode.RETRIES_EXHAUSTED,
      message: `The GPU worker stopped on all ${attempts.length} attempts (Batch job ${name}): ${reason}`,
    };
  }
  return { code: ErrorCode.INTERNAL, message: `The GPU worker ended without finishing (Batch job ${name}): ${reason}` };
}

/** Fails the platform job of a FAILED Batch job, unless it already ended or is another container's. */
export async function reconcileBatchFailure(jobs: JobStore, detail: BatchJobDetail): Promise<BatchEventResult> {
  const jobId = jobIdOf(detail);
  if (detail.status !== 'FAILED') return { action: 'ignored', jobId, reason: `Batch status ${String(detail.status)}` };
  if (jobId === null) return { action: 'dropped', jobId, reason: 'no job id in the Batch job' };
  const error = batchFailure(detail);
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const job = await jobs.get(jobId);
    if (job === null) return { action: 'ignored', jobId, reason: 'no such job' };
    if (isTerminal(job.status)) return { action: 'ignored', jobId, reason: `already ${job.status}`, job };
    // A Batch job that never ran a container cannot have claimed the job; a RUNNING row then belongs
    // to a twin Batch job submitted for the same message, which will finish it.
    if (job.status === 'RUNNING' && (detail.attempts ?? []).length === 0) {
      return { action: 'ignored', jobId, reason: 'running in another container', job };
    }
    try {
      const failed = await jobs.transition(jobId, job.status, 'FAILED', {
        stage: 'failed',
        error,
        message: { level: 'ERROR', text: error.message },
      });
      return { action: 'failed', jobId, job: failed };
    } catch (caught) {
      // The row moved under us (the worker finished, or another delivery got here first): look again.
      if (!isDomainError(caught, ErrorCode.CONFLICT)) throw caught;
    }
  }
  throw new Error(`Job ${jobId} kept changing while a Batch failure was being recorded; retrying the event.`);
}

let jobs: JobStore | undefined;

/** The function's handler. */
export async function handler(
  event: EventBridgeEvent<typeof BATCH_JOB_STATE_CHANGE, BatchJobDetail | null>,
): Promise<BatchEventResult> {
  const detail = event.detail;
  if (typeof detail !== 'object' || detail === null) {
    console.warn(JSON.stringify({ level: 'WARN', id: event.id, dropped: 'the event has no detail' }));
    return { action: 'dropped', jobId: null, reason: 'the event has no detail' };
  }
  jobs ??= jobStoreFromEnv();
  const result = await reconcileBatchFailure(jobs, detail);
  const { action, jobId, reason } = result;
  const level = action === 'dropped' ? 'WARN' : 'INFO';
  const line = JSON.stringify({
    level,
    id: event.id,
    batchJobId: detail.jobId,
    batchStatus: detail.status,
    jobId,
    action,
    reason,
    status: result.job?.status,
  });
  if (action === 'dropped') console.warn(line);
  else console.log(line);
  return result;
}
