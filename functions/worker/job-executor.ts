/**
 * What the worker loop hands a claimed job to: one executor per job kind. An executor does the work,
 * reports progress through the context, watches the signal, and returns the job's result; it throws a
 * DomainError for failures the owner should see by code.
 */

import type { Job, JsonValue, ProgressUpdate } from '../core';

/** What an executor may use while running one job. */
export interface ExecutionContext {
  /** Aborted when the owner cancels the job or the worker loses its lease; stop promptly. */
  signal: AbortSignal;
  /** Records and publishes progress; resolves once stored. */
  report(update: ProgressUpdate): Promise<void>;
}

/** Runs one kind of job. */
export type JobExecutor = (job: Job, context: ExecutionContext) => Promise<JsonValue>;
