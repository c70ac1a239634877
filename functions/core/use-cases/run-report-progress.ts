/**
 * Reporting progress from a running job: record it in the store, then publish the new snapshot so
 * subscribers see it. The store refuses progress for a finished job (CONFLICT), which is how a
 * straggling worker learns to stop.
 */

import { roundProgress, type Job, type ProgressUpdate } from '../job';
import type { RunDeps } from './run-deps';

/**
 * Records a progress report and publishes an event carrying the updated job: PREVIEW when the report
 * brings a preview, so clients can tell it from ordinary progress without comparing snapshots; else
 * PROGRESS.
 */
export async function reportProgress(deps: RunDeps, jobId: string, update: ProgressUpdate): Promise<Job> {
  const rounded = update.progress === undefined ? update : { ...update, progress: roundProgress(update.progress) };
  const job = await deps.jobs.updateProgress(jobId, rounded);
  await deps.events.publish({ type: update.preview !== undefined ? 'PREVIEW' : 'PROGRESS', job });
  return job;
}
