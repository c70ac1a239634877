/**
 * The job starter port: hands a newly created job to the service that runs jobs of its kind, when that
 * service does not read the job queue.
 *
 * Locally every kind goes through the one job queue, which the worker pool drains. On AWS the kinds
 * part ways: stylize jobs go through the stylize queue to the dispatcher and AWS Batch, while a
 * training job is started by the training launcher function, which creates its SageMaker run. A
 * submission therefore looks up a starter for the job's kind first and enqueues only when there is
 * none, so that no job is handed to a runner that cannot run it.
 */

import type { Job } from '../job';

/** Starts the run of a newly created job. */
export interface JobStarter {
  /**
   * Hands `job` (QUEUED, just created) to its runner. Resolves once the runner has accepted it (the
   * run itself goes on elsewhere); a failure to hand it over is thrown as a DomainError.
   */
  start(job: Job): Promise<void>;
}
