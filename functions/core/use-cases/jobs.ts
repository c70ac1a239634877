/**
 * Reading and cancelling jobs on behalf of their owner: `getJob`, `listJobs`, `cancelJob`.
 *
 * Every read passes the owner to the store, which answers another owner's job as absent; the caller
 * therefore cannot tell "someone else's" from "never existed", and cannot probe for ids.
 */

import { DomainError, ErrorCode, parseOneOf } from '../errors';
import { JOB_KINDS, JOB_STATUSES, type Job, type JobKind, type JobStatus } from '../job';
import type { Page } from '../ports/page';
import type { UseCaseDeps } from './deps';

function notFound(id: string): DomainError {
  return new DomainError(ErrorCode.NOT_FOUND, `No job with id ${JSON.stringify(id)}.`, { field: 'id' });
}

/** The owner's job, or null. */
export async function getJob(deps: Pick<UseCaseDeps, 'jobs'>, owner: string, id: string): Promise<Job | null> {
  return deps.jobs.get(id, owner);
}

/** The owner's job, or NOT_FOUND. */
export async function requireJob(deps: Pick<UseCaseDeps, 'jobs'>, owner: string, id: string): Promise<Job> {
  const job = await deps.jobs.get(id, owner);
  if (job === null) throw notFound(id);
  return job;
}

/** Filters and paging for `listJobs`. */
export interface ListJobsInput {
  status?: string | null;
  kind?: string | null;
  first?: number | null;
  after?: string | null;
}

/** The owner's jobs, newest first. */
export async function listJobs(
  deps: Pick<UseCaseDeps, 'jobs'>,
  owner: string,
  input: ListJobsInput = {},
): Promise<Page<Job>> {
  const request: { status?: JobStatus; kind?: JobKind; limit?: number; cursor?: string } = {};
  if (input.status != null) request.status = parseOneOf('job status', input.status, JOB_STATUSES);
  if (input.kind != null) request.kind = parseOneOf('job kind', input.kind, JOB_KINDS);
  if (input.first != null) request.limit = input.first;
  if (input.after != null) request.cursor = input.after;
  return deps.jobs.list(owner, request);
}

/**
 * Cancels the owner's job: a QUEUED job becomes CANCELLED at once; a RUNNING one is flagged and its
 * worker winds it down. Asking again is harmless; a job that already finished is CONFLICT.
 */
export async function cancelJob(deps: Pick<UseCaseDeps, 'jobs' | 'events'>, owner: string, id: string): Promise<Job> {
  const before = await requireJob(deps, owner, id);
  const after = await deps.jobs.requestCancel(id, owner);
  if (after.status !== before.status) {
    await deps.events.publish({ type: 'STATUS_CHANGED', job: after });
  } else if (after.cancelRequested && !before.cancelRequested) {
    await deps.events.publish({ type: 'CANCEL_REQUESTED', job: after });
  }
  return after;
}
