/**
 * The trainer launcher port: runs one TSPR training to completion or until told to stop.
 *
 * Locally this is a child process of `peerstyle train --sagemaker` in a job folder. On AWS the same
 * container runs as a SageMaker training job, started by the launcher function and followed through its
 * state-change events rather than through this port. Both speak the SageMaker contract
 * (string hyperparameters, a training channel, a model folder, a failure file), so this port carries
 * exactly that contract and nothing about processes or clouds.
 */

/** One training run to launch. */
export interface TrainingLaunch {
  /** The job this run belongs to; it names the run's working folder, so a retry resumes its checkpoints. */
  jobId: string;
  /**
   * Fills the run's training channel, a new empty folder, with the dataset (content/ and style/): the
   * one copy the run trains on. The launcher calls it once per job: a retry finds the channel an earlier
   * attempt filled and trains on that.
   */
  stageDataset(channelDir: string): Promise<void>;
  /** SageMaker-style hyperparameters: every value a string (`preset`, `steps`, `backend`, config keys). */
  hyperparameters: Record<string, string>;
}

/** One metric sample the trainer printed. */
export interface TrainingMetrics {
  /** Iteration the values belong to. */
  step: number;
  /** Total iterations of the run, when known. */
  steps: number | null;
  /** Loss name → value. */
  values: Record<string, number>;
}

/** How a caller steers a running training. */
export interface TrainingOptions {
  /** Aborting it asks the trainer to checkpoint and stop (SIGTERM, as SageMaker's StopTrainingJob does). */
  signal?: AbortSignal;
  /** Called for every metric line, in order. */
  onMetrics?: (metrics: TrainingMetrics) => void;
}

/** How a run ended when it did not fail. */
export interface TrainingOutcome {
  /** COMPLETED ran every step; STOPPED was asked to stop and checkpointed. */
  status: 'COMPLETED' | 'STOPPED';
  /**
   * The run's model folder: the trained weights (`weights.json`, `weights.bin`) and, for a COMPLETED
   * run, the model package the trainer exported beside them (`manifest.json` and the graphs).
   */
  modelDir: string;
  /** The folder holding the run's checkpoints. */
  checkpointDir: string;
  /** The last iteration reported, or null when none was. */
  lastStep: number | null;
}

/** Launches training runs. A failed run rejects with a DomainError carrying the trainer's reason. */
export interface TrainerLauncher {
  train(launch: TrainingLaunch, options?: TrainingOptions): Promise<TrainingOutcome>;
}
