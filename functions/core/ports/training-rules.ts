/**
 * The training-rules port: what the core must know of the trainer to accept a training request while
 * the caller waits. Which presets exist, whether the hyperparameters and the run length are ones the
 * trainer will follow, and what one iteration costs are all the trainer's facts (its config keys, its
 * schedule, its layer lists); the trainer answers them (trainer/training-rules.ts) and the core imports
 * nothing of it.
 */

/** What one iteration of a run costs by the training budget's measures. */
export interface IterationCost {
  /** Floating-point operations of one training iteration. */
  flopsPerIteration: number;
  /** Estimated bytes one iteration needs. */
  memoryBytes: number;
}

/** The trainer's verdict on a run: its cost, or the one request field it refuses and why. */
export type TrainingRunCheck =
  { ok: true; cost: IterationCost } | { ok: false; field: 'preset' | 'hyperparameters' | 'steps'; problem: string };

export interface TrainingRules {
  /** The presets a request may name. */
  readonly presets: readonly string[];
  /**
   * Checks a run of `steps` iterations of `preset` with the config `overrides` (strings, as
   * `peerstyle train --key=value` takes them). A refusal names every problem of its field at once.
   */
  checkRun(preset: string, overrides: Readonly<Record<string, string>>, steps: number): TrainingRunCheck;
}
