/**
 * Starting a run from trained weights (`peerstyle train --init <dir>`): a model package, a run's
 * model/ folder or a checkpoint. The run begins at iteration 0 with fresh optimiser moments and its own
 * schedule; only the parameters (generator and discriminator) carry over. It is how a model is
 * fine-tuned on new styles, and how a long run goes on from an exported model on another machine.
 */
import { readModelSource } from './export/model-export';
import { ARCHITECTURE_KEYS, type TrainConfig } from './config';
import type { NamedArray } from './nn/params';

export interface InitialWeights {
  /** The run's config with the architecture of the weights. */
  cfg: TrainConfig;
  params: Readonly<Record<string, NamedArray>>;
  /** How far the weights' own run had trained, for the log. */
  sourceIterations: number;
  sourcePreset: string;
}

export class InitWeightsError extends Error {
  override name = 'InitWeightsError';
}

/** Reads the weights in `dir` and fits the run's config to them. */
export async function readInitialWeights(
  dir: string,
  cfg: TrainConfig,
  overrides: Readonly<Record<string, string>>,
): Promise<InitialWeights> {
  let source;
  try {
    source = await readModelSource(dir);
  } catch (err) {
    throw new InitWeightsError(
      `Cannot start from ${dir}: ${(err as Error).message} (model packages carry their weights since release 0.4.0).`,
    );
  }
  // The keys that shape the network or how it renders come from the weights unless the command line
  // sets them (and then the shapes must still match).
  const inherited: Partial<TrainConfig> = {};
  for (const key of ARCHITECTURE_KEYS) {
    if (key in overrides || !(key in source.cfg)) continue;
    Object.assign(inherited, { [key]: (source.cfg as TrainConfig)[key] });
  }
  return {
    cfg: { ...cfg, ...inherited },
    params: source.params,
    sourceIterations: source.training?.iterations ?? 0,
    sourcePreset: source.preset,
  };
}
