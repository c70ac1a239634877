/**
 * How long a run is and how its learning rate decays: the one place that reconciles `--steps` with the
 * config's `iterations` and `decayIterations`, so the CLI, the SageMaker entry point and the API's
 * `startTraining` agree. Before this, `--steps` only moved the stopping point: a run longer than the
 * preset's `iterations` kept training past the point where the schedule reached zero, and the learning
 * rate went negative (the optimisers then climbed the loss).
 *
 * The rule:
 * - without `steps`, the run is `iterations` long, as the config says;
 * - `steps` alone sets the run's length: `iterations` becomes `steps` and the decay phase keeps its share
 *   of the run (`decayIterations × steps / iterations`, rounded), so the learning rate reaches 0 at `steps`;
 * - `steps` with an explicit `iterations` (a `--iterations=` override) stops the run early on that
 *   longer schedule, which is how a run is split in parts; `steps` beyond `iterations` is refused, since
 *   the learning rate would already be 0;
 * - an explicit `decayIterations` is kept as given.
 *
 * On `--resume` the config is the checkpoint's: `steps` equal to its `iterations` (or no `steps`)
 * continues the same schedule exactly; another `steps` rescales the checkpoint's schedule to the new
 * length from the current iteration on.
 */
import type { TrainConfig } from '../config';

/** The schedule of one run and where it stops. */
export interface RunPlan {
  /** The schedule's length: the learning rate is 0 from this iteration on. */
  iterations: number;
  /** Iterations at the end over which the learning rate falls linearly to 0. */
  decayIterations: number;
  /** The iteration after which the run stops (at most `iterations`). */
  stopAt: number;
}

/** A `steps` request the schedule cannot follow; the message says why and what to do. */
export class RunLengthError extends Error {
  override name = 'RunLengthError';
}

/**
 * The run's schedule and stopping point.
 *
 * @param cfg - the run's config (preset with overrides, or the checkpoint's when resuming)
 * @param steps - the requested length, if any
 * @param explicit - which schedule keys the caller set (overrides), which `steps` never rescales
 */
export function planRun(
  cfg: Pick<TrainConfig, 'iterations' | 'decayIterations'>,
  steps: number | undefined,
  explicit: { iterations?: boolean; decayIterations?: boolean } = {},
): RunPlan {
  if (steps === undefined)
    return { iterations: cfg.iterations, decayIterations: cfg.decayIterations, stopAt: cfg.iterations };
  if (!Number.isInteger(steps) || steps < 1)
    throw new RunLengthError(`steps must be a positive integer, got ${steps}.`);
  if (explicit.iterations) {
    if (steps > cfg.iterations) {
      throw new RunLengthError(
        `steps (${steps}) exceeds iterations (${cfg.iterations}), where the learning rate reaches 0. ` +
          `Leave iterations unset and the schedule follows steps, or set iterations to at least ${steps}.`,
      );
    }
    return { iterations: cfg.iterations, decayIterations: cfg.decayIterations, stopAt: steps };
  }
  const decayIterations = explicit.decayIterations
    ? cfg.decayIterations
    : Math.round((cfg.decayIterations * steps) / cfg.iterations);
  if (decayIterations > steps) {
    throw new RunLengthError(`decayIterations (${decayIterations}) cannot exceed the run's ${steps} steps.`);
  }
  return { iterations: steps, decayIterations, stopAt: steps };
}
