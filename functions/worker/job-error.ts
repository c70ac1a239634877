/**
 * What a failed run records on its job. The lease loop and the Batch run both finish jobs with it, so a
 * failure carries the same code whichever runtime ran the job.
 */

import { DomainError, ErrorCode, type JobError } from '../core';

/** The job error for anything an executor threw; unexpected errors keep their message but become INTERNAL. */
export function toJobError(error: unknown): JobError {
  if (error instanceof DomainError) return { code: error.code, message: error.message };
  return { code: ErrorCode.INTERNAL, message: error instanceof Error ? error.message : String(error) };
}
