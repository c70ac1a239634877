/**
 * The training stopper port: asks the service running a job's training to stop it.
 *
 * A RUNNING training job lives on a machine the API cannot reach; on AWS the run is a SageMaker
 * training job, which only StopTrainingJob ends early. Stopping is a request: the run checkpoints
 * and ends, and its "Stopped" state change later moves the job to CANCELLED, as for any other run.
 */

/** Stops the training run of a job. */
export interface TrainingStopper {
  /**
   * Asks for the run of `jobId` to stop. A run that has already ended (or never started) counts as
   * stopped; only a failure to ask is an error.
   */
  stop(jobId: string): Promise<void>;
}
