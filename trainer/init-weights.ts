/**
 * Starting a run from trained weights (`peerstyle train --init <dir>`): a model package, a run's
 * model/ folder or a checkpoint. The run begins at iteration 0 with fresh optimiser moments and its own
 * schedule; only the parameters (generator and discriminator) carry over. It is how a model is
 * fine-tuned on new styles, and how a long run goes on from an exported model on another machine.
 */
import { readModelSource } from './export/model-export';
import { ARCHITECTURE_KEYS, withLegacyDefaults, type TrainConfig } from './config';
import type { NamedArray } from './nn/params';
import { widenDecoders } from './widen-decoder';

export interface InitialWeights {
  /** The run's config with the architecture of the weights. */
  cfg: TrainConfig;
  params: Readonly<Record<string, NamedArray>>;
  /** How far the weights' own run had trained, for the log. */
  sourceIterations: number;
  sourcePreset: string;
  /**
   * The run has style modulation and the weights do not: its modulation layers start from their
   * initial values (identity), so the run begins rendering exactly as the weights did.
   */
  addsStyleModulation: boolean;
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
  const fitted: TrainConfig = { ...cfg, ...inherited };
  const sourceCfg = withLegacyDefaults(source.cfg);
  if (sourceCfg.styleModulation && !fitted.styleModulation) {
    throw new InitWeightsError(
      `The weights in ${dir} were trained with styleModulation=true; a run without it cannot use their modulation layers.`,
    );
  }
  if (sourceCfg.styleModulation && fitted.decoderWidth !== sourceCfg.decoderWidth) {
    throw new InitWeightsError(
      `decoderWidth cannot change for weights trained with styleModulation=true (their modulation layers have the old widths).`,
    );
  }
  return {
    cfg: fitted,
    addsStyleModulation: fitted.styleModulation && !sourceCfg.styleModulation,
    params: widenedToFit(source.params, sourceCfg.decoderWidth, fitted),
    sourceIterations: source.training?.iterations ?? 0,
    sourcePreset: source.preset,
  };
}

/**
 * The weights with their decoders widened to the run's `decoderWidth` when the command line asks for a
 * multiple of the weights' own (trainer/widen-decoder.ts); any other difference is left for the
 * parameter store to report.
 */
function widenedToFit(
  params: Readonly<Record<string, NamedArray>>,
  sourceWidth: number,
  cfg: TrainConfig,
): Readonly<Record<string, NamedArray>> {
  if (cfg.decoderWidth === sourceWidth) return params;
  if (cfg.decoderWidth % sourceWidth !== 0) {
    throw new InitWeightsError(
      `decoderWidth=${cfg.decoderWidth} is not a multiple of the weights' own ${sourceWidth}: a decoder can only be widened by copying each channel a whole number of times.`,
    );
  }
  return widenDecoders(params, cfg.decoderWidth / sourceWidth, cfg.upsample, cfg.seed);
}
