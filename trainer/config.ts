/**
 * Training presets for TSPR, as typed objects, and the `--key=value` override parser.
 *
 * `paper` follows the official code's defaults (nnaisense/conditional-style-transfer, options/ and the
 * README's training command). `small` keeps the architecture and shrinks widths and depths so that an
 * iteration takes seconds on two CPU cores; `tiny` exists for tests.
 */

export interface ModelConfig {
  /** Base width of the generator: latent = 12·ngf channels (4·ngf content, 4·ngf global style, 4·ngf local style). */
  ngf: number;
  /** Base width of the discriminator (layers ndf, 2ndf, 4ndf, 8ndf). */
  ndf: number;
  /** Residual blocks in the encoder. */
  encoderBlocks: number;
  /** Residual blocks in each decoder (main and auxiliary). */
  decoderBlocks: number;
  /** Stride-2 convs in the global-style sub-network (the paper's 3 take 64 px latents to 8 px). */
  globalStyleConvs: number;
  /** K nearest neighbours in both TPFR stages. */
  knn: number;
  /** Dropout rate on the TPFR attention logits (training only). */
  attentionDropout: number;
  /** Switch stage 1 (style recombination) of the TPFR layer on or off (ablation). */
  styleTransfer: boolean;
  /** Switch stage 2 (content recombination) of the TPFR layer on or off (ablation). */
  contentTransfer: boolean;
  /** Standard deviation of the Gaussian noise added to the discriminator's input. */
  discriminatorNoise: number;
  /**
   * End each decoder with the colour head (trainer/layers/colour-head.ts), which conditions the output's
   * colours on the exemplar's colour statistics. Off in `paper`, which reproduces the reference exactly.
   */
  colorHead: boolean;
  /**
   * How each decoder doubles its resolution (twice): 'transpose' is the reference's 4×4 stride-2
   * transposed convolution; 'nearest' is its `create_decoder_model_upsample` variant, nearest-neighbour
   * upsampling then a 5×5 convolution, which cannot leave the checkerboard a stride-2 transposed
   * convolution leaves where its kernel footprints overlap unevenly (Odena et al., "Deconvolution and
   * checkerboard artifacts", 2016).
   */
  upsample: UpsampleMode;
  /**
   * Multiplier of the widths of each decoder's two upsampling stages (2·ngf·w channels at half
   * resolution, ngf·w at full). The base ngf gives 16 channels at full resolution in `small`, the
   * whole of what the last 7×7 conv can draw strokes and edges from; widening the upsampling path
   * alone adds rendering capacity without touching the latent, the TPFR layer or the encoder.
   */
  decoderWidth: number;
  /**
   * Give each decoder output the mean colour of the image it should look like: the output after tanh
   * has its own per-channel mean over H×W replaced by the exemplar's. The encoder cannot see an image's
   * mean colour (the instance norm after its first convolution removes a constant offset), so this is
   * the one fact the decoder must be told; unlike `colorHead` it leaves the decoder's contrast and local
   * colours alone and has no weights. Exclusive with `colorHead`.
   */
  colorMean: boolean;
  /**
   * With `colorMean`, also give each output channel the exemplar's standard deviation over H×W (the
   * output, mean removed, is scaled by the exemplar's deviation over its own). The encoder cannot see
   * an image's global contrast either: the instance norm after its first convolution divides it out.
   */
  colorStd: boolean;
  /**
   * With `colorStd`, match the exemplar's whole colour covariance instead of each channel's deviation
   * alone: the output's colours are moved by the optimal transport map between the two Gaussians
   * (trainer/layers/colour-covariance.ts). Cross-channel structure (a grey exemplar, a blue-to-yellow
   * palette) is then the exemplar's, not the content's.
   */
  colorCov: boolean;
  /**
   * Condition every instance norm of each decoder on the style codes it decodes: after the norm, the
   * values are scaled by (1 + γ) and shifted by β, per channel, with γ and β linear in the per-channel
   * mean and deviation over positions of the latent's style part (global and local codes). Without it
   * the decoder is blind to what is constant over an image's style codes: the merge's 1×1 conv turns a
   * per-channel constant into a per-channel constant, which the instance norm after it removes, so only
   * the codes' variation from position to position reaches the image (trainer/layers/style-modulation.ts).
   */
  styleModulation: boolean;
}

/** The decoder's upsampling modes (see {@link ModelConfig.upsample}). */
export const UPSAMPLE_MODES = ['transpose', 'nearest'] as const;
export type UpsampleMode = (typeof UPSAMPLE_MODES)[number];

/**
 * Values for keys added after models were first saved, for configs read from older checkpoints and
 * manifests: they describe the network those models were trained with.
 */
export const LEGACY_MODEL_DEFAULTS = {
  colorHead: false,
  upsample: 'transpose',
  colorMean: false,
  colorStd: false,
  decoderWidth: 1,
  colorCov: false,
  styleModulation: false,
} as const satisfies Partial<ModelConfig>;

/** A saved model config with the keys it predates filled in from {@link LEGACY_MODEL_DEFAULTS}. */
export function withLegacyDefaults<T extends Partial<ModelConfig>>(saved: T): T {
  return { ...LEGACY_MODEL_DEFAULTS, ...saved };
}

/** The config keys that shape the trained network (the rest only steer training, e.g. dropout, noise). */
export const ARCHITECTURE_KEYS = [
  'ngf',
  'ndf',
  'encoderBlocks',
  'decoderBlocks',
  'globalStyleConvs',
  'knn',
  'styleTransfer',
  'contentTransfer',
  'colorHead',
  'upsample',
  'colorMean',
  'colorStd',
  'decoderWidth',
  'colorCov',
  'styleModulation',
] as const satisfies readonly (keyof ModelConfig)[];

export interface TrainConfig extends ModelConfig {
  /** Side of the square training crops, in pixels (must be a multiple of 4). */
  cropSize: number;
  /** Shorter side the images are resized to before the random scale and crop (paper: 286 for 256 crops). */
  loadSize: number;
  /**
   * Shorter side the style images are resized to before the same random scale and crop; 0 (every
   * preset) means `loadSize`, so changing `loadSize` alone keeps the two equal. Larger than `loadSize`, a crop holds part of the style image at a finer scale, so the
   * textures the losses compare are drawn at a few pixels and up rather than below one.
   */
  styleLoadSize: number;
  /** Content/style pairs per iteration; with more than one, TPFR peers pool over every style image of the batch. */
  batchSize: number;
  /** Total iterations. */
  iterations: number;
  /** Iterations at the end over which the learning rate decays linearly to zero. */
  decayIterations: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Weight of the content feature cycle loss (λ_cont). */
  lambdaContent: number;
  /** Weight of the metric loss on style codes (λ_style). */
  lambdaStyle: number;
  /** Weight of the auxiliary latent cycle loss (λ_cycle_aux). */
  lambdaCycleAux: number;
  /** Weight of the auxiliary reconstruction loss (λ_idt_aux). */
  lambdaIdtAux: number;
  /** Weight of the main reconstruction loss (λ_idt; the README trains with 25). */
  lambdaIdt: number;
  /** Weight of the transfer latent cycle loss (λ_transf). */
  lambdaTransfer: number;
  /** Weight of the generator's adversarial loss. */
  lambdaAdversarial: number;
  /**
   * Weight of the texture loss on fake_B: the distance between Gram matrices of a fixed random-weight
   * conv net's features of fake_B and of the style exemplar (trainer/texture-loss.ts). 0 in `paper`,
   * which has only the reference's losses.
   */
  lambdaTexture: number;
  /**
   * Weight of the texture loss on the encoder's style codes: the transfer decoded a second time, by the
   * main decoder and TPFR frozen, from the style exemplar's live latent, so that the loss reaches the codes
   * (the main path detaches every latent, so lambdaTexture trains the main decoder only). 0 in every preset.
   */
  lambdaTextureCodes: number;
  /**
   * How many levels of an image pyramid the texture loss compares: 1, the image alone; 3, also at a half
   * and a quarter of its side (each level the previous one average-pooled by 2). The texture net sees
   * 17 px at once, so at one level it describes grain only; the coarser levels let it tell cells, stones
   * and strokes of a few tens of pixels apart. 1 in every preset.
   */
  textureScales: number;
  /**
   * Weight of the grid loss on the main decoder's outputs: how much more prominent their spectral peaks
   * at the 2- and 4-pixel periods are than their targets' (trainer/grid-loss.ts). 0 in every preset.
   */
  lambdaGrid: number;
  /** Margin of the metric loss's hinge on the mean negative distance. */
  metricMargin: number;
  /** Size of the discriminator's history buffer of (real, fake, style) triplets. */
  poolSize: number;
  /** Seed for weights, data order, augmentation, noise and dropout. */
  seed: number;
  /** Iterations between metric lines. */
  logEvery: number;
  /** Iterations between checkpoints. */
  checkpointEvery: number;
  /** Fraction of unreadable images tolerated in a dataset before training refuses to start. */
  maxCorruptFraction: number;
}

/** {@link withLegacyDefaults} for a training config: training keys added later are off in older runs. */
export function withLegacyTrainDefaults(saved: TrainConfig): TrainConfig {
  // Runs before styleLoadSize loaded their style images at loadSize, like the photos: 0 says that.
  const legacy: Pick<
    TrainConfig,
    'lambdaTexture' | 'lambdaTextureCodes' | 'textureScales' | 'lambdaGrid' | 'styleLoadSize'
  > = {
    styleLoadSize: 0,
    lambdaTexture: 0,
    lambdaTextureCodes: 0,
    textureScales: 1,
    lambdaGrid: 0,
  };
  return { ...legacy, ...withLegacyDefaults(saved) };
}

export const PRESET_NAMES = ['paper', 'small', 'tiny'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const shared = {
  decoderWidth: 1,
  colorCov: false,
  styleModulation: false,
  styleLoadSize: 0,
  attentionDropout: 0.2,
  styleTransfer: true,
  contentTransfer: true,
  discriminatorNoise: 0.1,
  learningRate: 4e-4,
  beta1: 0.5,
  beta2: 0.999,
  lambdaContent: 1,
  lambdaStyle: 1,
  lambdaCycleAux: 1,
  lambdaIdtAux: 1,
  lambdaIdt: 25,
  lambdaTransfer: 1,
  lambdaAdversarial: 1,
  lambdaTexture: 0,
  lambdaTextureCodes: 0,
  textureScales: 1,
  lambdaGrid: 0,
  metricMargin: 1.0,
  poolSize: 50,
  seed: 1,
  maxCorruptFraction: 0.1,
} satisfies Partial<TrainConfig>;

export const PRESETS: Record<PresetName, TrainConfig> = {
  // The official sizes: 200 "epochs" of 6,144 samples at batch 2 ≈ 614k iterations, the last 150 of them decaying.
  paper: {
    ...shared,
    ngf: 64,
    ndf: 64,
    encoderBlocks: 6,
    decoderBlocks: 6,
    globalStyleConvs: 3,
    knn: 5,
    cropSize: 256,
    loadSize: 286,
    batchSize: 1,
    iterations: 614_400,
    decayIterations: 460_800,
    logEvery: 100,
    checkpointEvery: 2_000,
    colorHead: false,
    upsample: 'transpose',
    colorMean: false,
    colorStd: false,
  },
  // Sized for two CPU cores on the wasm backend; see the README's "Choosing the small preset".
  small: {
    ...shared,
    ngf: 16,
    ndf: 16,
    encoderBlocks: 3,
    decoderBlocks: 3,
    globalStyleConvs: 3,
    knn: 5,
    cropSize: 128,
    loadSize: 143,
    batchSize: 1,
    iterations: 30_000,
    decayIterations: 10_000,
    logEvery: 20,
    checkpointEvery: 100,
    // Peerstyle's changes to the reference (README, "Model fidelity"): nearest-neighbour upsampling,
    // the exemplar's mean colour, the first TPFR stage only (the structure the engine keeps by
    // default), and a texture loss that gives fake_B a direct style signal.
    colorHead: false,
    upsample: 'nearest',
    colorMean: true,
    colorStd: false,
    contentTransfer: false,
    lambdaTexture: 1,
  },
  // For tests: a step takes well under a second on the cpu backend.
  tiny: {
    ...shared,
    ngf: 4,
    ndf: 4,
    encoderBlocks: 1,
    decoderBlocks: 1,
    globalStyleConvs: 2,
    knn: 3,
    cropSize: 32,
    loadSize: 36,
    batchSize: 1,
    iterations: 40,
    decayIterations: 20,
    logEvery: 5,
    checkpointEvery: 10,
    colorHead: false,
    upsample: 'nearest',
    colorMean: true,
    colorStd: false,
    lambdaTexture: 1,
  },
};

/** Inclusive bounds for numeric keys; a value outside them is refused. */
const BOUNDS: Partial<Record<keyof TrainConfig, [number, number]>> = {
  ngf: [1, 256],
  ndf: [1, 256],
  encoderBlocks: [0, 32],
  decoderBlocks: [0, 32],
  decoderWidth: [1, 8],
  globalStyleConvs: [1, 6],
  knn: [1, 64],
  attentionDropout: [0, 0.9],
  discriminatorNoise: [0, 10],
  cropSize: [16, 1024],
  loadSize: [16, 2048],
  styleLoadSize: [0, 2048],
  batchSize: [1, 64],
  iterations: [1, 10_000_000],
  decayIterations: [0, 10_000_000],
  learningRate: [1e-8, 1],
  beta1: [0, 0.9999],
  beta2: [0, 0.99999],
  lambdaContent: [0, 1000],
  lambdaStyle: [0, 1000],
  lambdaCycleAux: [0, 1000],
  lambdaIdtAux: [0, 1000],
  lambdaIdt: [0, 1000],
  lambdaTransfer: [0, 1000],
  lambdaAdversarial: [0, 1000],
  lambdaTexture: [0, 1000],
  lambdaTextureCodes: [0, 1000],
  textureScales: [1, 4],
  lambdaGrid: [0, 1000],
  metricMargin: [0, 100],
  poolSize: [0, 10_000],
  seed: [0, 2 ** 31 - 1],
  logEvery: [1, 1_000_000],
  checkpointEvery: [1, 1_000_000],
  maxCorruptFraction: [0, 1],
};

const INTEGER_KEYS = new Set<keyof TrainConfig>([
  'ngf',
  'ndf',
  'encoderBlocks',
  'decoderBlocks',
  'decoderWidth',
  'globalStyleConvs',
  'knn',
  'cropSize',
  'loadSize',
  'styleLoadSize',
  'textureScales',
  'batchSize',
  'iterations',
  'decayIterations',
  'poolSize',
  'seed',
  'logEvery',
  'checkpointEvery',
]);

/** Keys whose value is one of a fixed set of words. */
const STRING_CHOICES: Partial<Record<keyof TrainConfig, readonly string[]>> = {
  upsample: UPSAMPLE_MODES,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

export function presetConfig(name: string): TrainConfig {
  if (!isPresetName(name)) {
    throw new ConfigError(`Unknown preset "${name}". Expected one of: ${PRESET_NAMES.join(', ')}.`);
  }
  return { ...PRESETS[name] };
}

/**
 * Applies string overrides (from `--key=value` flags or SageMaker's hyperparameters.json, whose values
 * are all strings) to a preset. Every problem is collected and reported at once.
 */
export function applyOverrides(base: TrainConfig, overrides: Record<string, string>): TrainConfig {
  const config: TrainConfig = { ...base };
  const problems: string[] = [];
  const validKeys = Object.keys(base) as (keyof TrainConfig)[];
  for (const [rawKey, raw] of Object.entries(overrides)) {
    const key = rawKey as keyof TrainConfig;
    if (!validKeys.includes(key)) {
      problems.push(`Unknown key "${rawKey}". Valid keys: ${validKeys.join(', ')}.`);
      continue;
    }
    const parsed = parseValue(key, raw, base[key]);
    if ('problem' in parsed) problems.push(parsed.problem);
    else (config as unknown as Record<string, unknown>)[key] = parsed.value;
  }
  problems.push(...validateConfig(config));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config;
}

/** One string value read as the kind `current` has (a word of the key's choices, a boolean or a number). */
function parseValue(
  key: keyof TrainConfig,
  raw: string,
  current: unknown,
): { value: string | boolean | number } | { problem: string } {
  const choices = STRING_CHOICES[key];
  if (choices !== undefined) {
    return choices.includes(raw)
      ? { value: raw }
      : { problem: `${key} must be one of: ${choices.join(', ')}; got "${raw}".` };
  }
  if (typeof current === 'boolean') {
    return raw === 'true' || raw === 'false'
      ? { value: raw === 'true' }
      : { problem: `${key} must be true or false, got "${raw}".` };
  }
  const value = Number(raw);
  return raw.trim() === '' || !Number.isFinite(value)
    ? { problem: `${key} must be a number, got "${raw}".` }
    : { value };
}

/** The problem with one numeric key's value (not an integer where one is needed, out of bounds), if any. */
function boundProblem(key: keyof TrainConfig, value: number): string | undefined {
  const bounds = BOUNDS[key];
  if (bounds === undefined) return undefined;
  const [lo, hi] = bounds;
  if (INTEGER_KEYS.has(key) && !Number.isInteger(value)) return `${key} must be an integer, got ${value}.`;
  if (value < lo || value > hi) return `${key} must be between ${lo} and ${hi}, got ${value}.`;
  return undefined;
}

/** Rules between the keys of the output's colour step, for trained runs and re-exported weights alike. */
function colourStepProblems(config: ModelConfig): string[] {
  const problems: string[] = [];
  if (config.colorStd && !config.colorMean) {
    problems.push('colorStd matches the deviation on top of colorMean: set colorMean=true as well.');
  }
  if (config.colorCov && !config.colorStd) {
    problems.push('colorCov matches the covariance on top of colorMean and colorStd: set both to true as well.');
  }
  if (config.colorHead && config.colorMean) {
    problems.push('colorHead and colorMean are exclusive: both set the output colours; turn one off.');
  }
  return problems;
}

/** Returns every problem with a config (empty when it is valid). */
export function validateConfig(config: TrainConfig): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(BOUNDS) as (keyof TrainConfig)[]) {
    const problem = boundProblem(key, config[key] as number);
    if (problem !== undefined) problems.push(problem);
  }
  if (config.cropSize % 4 !== 0) problems.push(`cropSize must be a multiple of 4, got ${config.cropSize}.`);
  for (const key of ['loadSize', 'styleLoadSize'] as const) {
    if (key === 'styleLoadSize' && config[key] === 0) continue; // follows loadSize
    if (config[key] < config.cropSize / 0.9) {
      problems.push(`${key} must be at least cropSize/0.9 (${Math.ceil(config.cropSize / 0.9)}), got ${config[key]}.`);
    }
  }
  for (const [key, choices] of Object.entries(STRING_CHOICES) as [keyof TrainConfig, readonly string[]][]) {
    if (!choices.includes(String(config[key]))) {
      problems.push(`${key} must be one of: ${choices.join(', ')}; got "${String(config[key])}".`);
    }
  }
  problems.push(...colourStepProblems(config));
  if (config.decayIterations > config.iterations) {
    problems.push(`decayIterations (${config.decayIterations}) cannot exceed iterations (${config.iterations}).`);
  }
  const latentSide = config.cropSize / 4;
  // Instance norm needs at least 2×2 positions: the global-style net's last map must keep them.
  if (latentSide / 2 ** config.globalStyleConvs < 2) {
    problems.push(`globalStyleConvs ${config.globalStyleConvs} is too many for a ${latentSide} px latent.`);
  }
  // The texture net pools twice: its last map at the coarsest pyramid level must keep 2×2 positions.
  const coarsest = config.cropSize / 2 ** (config.textureScales - 1) / 4;
  if (coarsest < 2) {
    problems.push(`textureScales ${config.textureScales} is too many for ${config.cropSize} px crops.`);
  }
  return problems;
}

/** Channel layout of the latent: content | global style | local style. */
export function latentChannels(config: ModelConfig): {
  content: number;
  globalStyle: number;
  localStyle: number;
  total: number;
} {
  const c = 4 * config.ngf;
  return { content: c, globalStyle: c, localStyle: c, total: 3 * c };
}

/**
 * Architecture keys that decide how trained weights render but not their shapes: the number of TPFR
 * neighbours and the output's colour step. `peerstyle export --set` may change them without retraining.
 */
export const RENDERING_KEYS = ['knn', 'colorStd', 'colorCov'] as const satisfies readonly (keyof ModelConfig)[];

/**
 * A model config with `key=value` settings of {@link RENDERING_KEYS} applied; any other key, a value
 * of the wrong kind or out of bounds, or a combination the trainer would refuse is a ConfigError
 * naming every problem.
 */
export function withRenderingSettings<T extends ModelConfig>(cfg: T, settings: readonly string[]): T {
  const problems: string[] = [];
  const next: T = { ...cfg };
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    const key = setting.slice(0, Math.max(eq, 0)) as (typeof RENDERING_KEYS)[number];
    if (eq <= 0 || !(RENDERING_KEYS as readonly string[]).includes(key)) {
      problems.push(`"${setting}": expected key=value with key one of ${RENDERING_KEYS.join(', ')}.`);
      continue;
    }
    const parsed = parseValue(key, setting.slice(eq + 1), cfg[key]);
    const problem = 'problem' in parsed ? parsed.problem : boundProblem(key, parsed.value as number);
    if (problem !== undefined) problems.push(problem);
    else (next as Record<string, unknown>)[key] = (parsed as { value: unknown }).value;
  }
  problems.push(...colourStepProblems(next));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return next;
}
