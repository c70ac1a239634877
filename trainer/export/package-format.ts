/**
 * The model package format: a folder with `encoder.onnx`, `tpfr.onnx`, `decoder.onnx` and
 * `manifest.json`. The manifest says what the model is (name, version, preset and config), how to feed
 * it (input normalisation), where it came from (training data and steps), how good it is (an optional
 * `eval` object that `peerstyle eval` fills in later) and, for every file, its byte size and sha256, so a
 * package copied between machines or buckets can be checked before it is used.
 *
 * This module is the contract between the exporter that writes packages (package-writer.ts) and the
 * engine that runs them (functions/engine/model-package.ts): names, types, reading and checking. It
 * imports nothing of the ONNX writer, so the engine's import graph stays free of it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

import {
  isRenderScale,
  RENDER_SCALE_RANGE,
  SIZE_RANGE,
  STRUCTURE_MODES,
  type StructureMode,
} from '../../functions/core/stylize-input';
import { MANIFEST_FILE_NAME } from '../../functions/core/use-cases/publish-trained-model';
import { withLegacyDefaults, type ModelConfig } from '../config';

export const MANIFEST_FORMAT = 'peerstyle-model/1';
/** The core publishes packages by this name too; one declaration serves both. */
export const MANIFEST_FILE = MANIFEST_FILE_NAME;

/** The package's graphs and their file names. */
export const GRAPH_FILES = { encoder: 'encoder.onnx', tpfr: 'tpfr.onnx', decoder: 'decoder.onnx' } as const;
export type GraphName = keyof typeof GRAPH_FILES;

/** Input and output names of each graph: the contract between the exporter and the engine. */
export const ENCODER_IO = { image: 'image', latent: 'latent' } as const;
export const TPFR_IO = {
  content: 'content',
  peers: 'peers',
  peerLogWeight: 'peer_log_weight',
  output: 'output',
} as const;
export const DECODER_IO = { latent: 'latent', image: 'image' } as const;
/** The tiled graphs' input and output (their statistics are `norm{i}.mean|var` in, `norm{i}.pre` out). */
export const TILED_IO = { input: 'input', output: 'output' } as const;
/**
 * The decoders' extra input with `styleModulation`: the style statistics of the latent
 * [1, 2·8ngf, 1, 1] (trainer/layers/style-modulation.ts), which no tile can compute alone and which a
 * package may read from another copy of the content (`defaults.conditionSide`). The tiled decoder has
 * always taken it; the whole-image decoder takes it since 0.7.0 and computed it from its input before.
 */
export const TILED_STYLE_CONDITION = 'style_condition';
/**
 * Added to each style channel's variance before its square root in the style condition: keeps the
 * deviation's gradient finite where a channel is constant over positions (the global codes always are).
 * The trainer, the decoder graph and the engine's tiled path all use it.
 */
export const STYLE_STATISTICS_EPS = 1e-5;

/** Graphs for large images (tiled-graphs.ts), present in packages exported with tiling. */
export const TILED_GRAPH_FILES = {
  encoderTiled: 'encoder-tiled.onnx',
  global: 'global.onnx',
  decoderTiled: 'decoder-tiled.onnx',
} as const;
export type TiledGraphName = keyof typeof TILED_GRAPH_FILES;

/** Where the weights came from. */
export interface TrainingInfo {
  dataset: string;
  iterations: number;
  trainSeconds: number;
  /** Present when the weights are the mean of several checkpoints (average-weights.ts): their iterations. */
  averagedIterations?: number[];
}

/**
 * The colour head's weights (trainer/layers/colour-head.ts), applied by the engine to the decoder's
 * pre-tanh output. Weights are row-major [6, 3] (statistic × output channel).
 */
export interface ColourHeadParams {
  eps: number;
  scaleWeight: number[];
  scaleBias: number[];
  shiftWeight: number[];
  shiftBias: number[];
}

// A package's default structure is a default for the stylize option, so it takes that option's values.
export { STRUCTURE_MODES, type StructureMode };

/** A package's manifest.json. */
export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  version: string;
  preset: string;
  config: ModelConfig;
  /** How images enter the encoder and leave the decoder. */
  input: { range: [number, number]; channels: 'RGB'; layout: 'NCHW'; sizeMultiple: number };
  training?: TrainingInfo;
  /** Quality figures measured on a held-out set; absent until `peerstyle eval` has run. */
  eval?: Record<string, unknown>;
  opset: number;
  /** Present when the package holds the tiled graphs: the tile overlap each network needs, in its input's pixels. */
  tiling?: { encoderHalo: number; decoderHalo: number; encoderNorms: number[]; decoderNorms: number[] };
  /** Present when `config.colorHead` is on: the decoders then output pre-tanh values. */
  colourHead?: ColourHeadParams;
  /** Inference settings this model is best used with, when a request does not say (see the engine). */
  defaults?: {
    structure?: StructureMode;
    /**
     * Long side the style images are resampled to when a request does not say: the scale of the
     * style's texture the model renders best, chosen on held-out pairs.
     */
    styleSize?: number;
    /**
     * How many times the output's size the model works at when a request does not say (supersampling),
     * chosen on held-out pairs.
     */
    renderScale?: number;
    /**
     * With `config.styleModulation`: the decoders' style condition is read from a copy of the content
     * with the area of a square of this side, in px (aspect kept), whatever size the image renders at.
     * The condition is a statistic over the latent's positions, and a decoder learned it over square
     * training crops (cropSize); read over a latent several times that area it drifts (README, "Model
     * fidelity"). Absent: read from the rendered latent itself. Needs the tiled graphs, whose decoder
     * takes the condition as an input. Export writes the training config's `cropSize` unless told
     * otherwise.
     */
    conditionSide?: number;
  };
  createdAt: string;
  /** Every file of the package but the manifest: byte size and sha256 (hex). */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** Raised when a package is missing, damaged or inconsistent; the message names the file at fault. */
export class ModelPackageError extends Error {
  override name = 'ModelPackageError';
}

/** The sha256 of bytes, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const REQUIRED_FIELDS = ['name', 'version', 'preset', 'config', 'input', 'opset', 'files'] as const;

/** Reads and validates `dir/manifest.json` (format and required fields), without touching the graphs. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new ModelPackageError(`${file} is missing: ${dir} is not a Peerstyle model package.`);
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (err) {
    throw new ModelPackageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.format !== MANIFEST_FORMAT) {
    throw new ModelPackageError(
      `${file} has format "${String((manifest as { format?: unknown } | null)?.format)}"; expected "${MANIFEST_FORMAT}".`,
    );
  }
  const missing = REQUIRED_FIELDS.filter((k) => manifest[k] === undefined || manifest[k] === null);
  if (missing.length > 0) throw new ModelPackageError(`${file} lacks required fields: ${missing.join(', ')}.`);
  for (const graph of Object.values(GRAPH_FILES)) {
    if (!manifest.files[graph])
      throw new ModelPackageError(
        `${file} does not list ${graph}; a package needs ${Object.values(GRAPH_FILES).join(', ')}.`,
      );
  }
  manifest.config = withLegacyDefaults(manifest.config);
  if (manifest.config.colorHead) checkColourHead(file, manifest.colourHead);
  const structure = manifest.defaults?.structure;
  if (structure !== undefined && !(STRUCTURE_MODES as readonly string[]).includes(structure))
    throw new ModelPackageError(`${file} has defaults.structure "${String(structure)}"; expected keep or transfer.`);
  const styleSize = manifest.defaults?.styleSize;
  if (styleSize !== undefined && !isStyleSize(styleSize))
    throw new ModelPackageError(
      `${file} has defaults.styleSize ${JSON.stringify(styleSize)}; expected a whole number of pixels in ${SIZE_RANGE[0]}..${SIZE_RANGE[1]}.`,
    );
  const renderScale = manifest.defaults?.renderScale;
  if (renderScale !== undefined && !isRenderScale(renderScale))
    throw new ModelPackageError(
      `${file} has defaults.renderScale ${JSON.stringify(renderScale)}; expected a number in ${RENDER_SCALE_RANGE[0]}..${RENDER_SCALE_RANGE[1]}.`,
    );
  const conditionProblem = conditionSideProblem(
    manifest.config,
    manifest.tiling !== undefined,
    manifest.defaults?.conditionSide,
  );
  if (conditionProblem) throw new ModelPackageError(`${file} has defaults.conditionSide: ${conditionProblem}`);
  return manifest;
}

/** Sides `defaults.conditionSide` may take: from the smallest training crop to the engine's style sides. */
export const CONDITION_SIDE_RANGE: readonly [number, number] = [16, SIZE_RANGE[1]];

/** A side the style condition can be read at ({@link CONDITION_SIDE_RANGE}). */
export function isConditionSide(value: unknown): value is number {
  return isWholeNumberIn(value, CONDITION_SIDE_RANGE);
}

function isWholeNumberIn(value: unknown, range: readonly [number, number]): value is number {
  return Number.isInteger(value) && (value as number) >= range[0] && (value as number) <= range[1];
}

/**
 * Why a package cannot read its style condition at `side` px, or undefined when it can (or `side` is
 * undefined). Export checks it before writing, the loader when reading.
 */
export function conditionSideProblem(config: ModelConfig, tiledGraphs: boolean, side: unknown): string | undefined {
  if (side === undefined) return undefined;
  if (!isConditionSide(side))
    return `${JSON.stringify(side)} is not a whole number of pixels in ${CONDITION_SIDE_RANGE[0]}..${CONDITION_SIDE_RANGE[1]}.`;
  if (!config.styleModulation)
    return 'the model has no style modulation (styleModulation), so its decoders read no condition.';
  if (!tiledGraphs) return 'the package has no tiled graphs; only the tiled decoder takes the condition as an input.';
  return undefined;
}

/** A style side a request could ask for too (the API's styleSize range). */
export function isStyleSize(value: unknown): value is number {
  return isWholeNumberIn(value, SIZE_RANGE);
}

function checkColourHead(file: string, head: ColourHeadParams | undefined): void {
  if (head === undefined || head === null || typeof head !== 'object')
    throw new ModelPackageError(`${file} has config.colorHead on but no colourHead weights.`);
  const lengths: Record<keyof ColourHeadParams, number> = {
    eps: 0,
    scaleWeight: 18,
    scaleBias: 3,
    shiftWeight: 18,
    shiftBias: 3,
  };
  for (const [key, length] of Object.entries(lengths) as [keyof ColourHeadParams, number][]) {
    const value = head[key];
    const ok =
      key === 'eps'
        ? typeof value === 'number' && value > 0 && Number.isFinite(value)
        : Array.isArray(value) &&
          value.length === length &&
          value.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw new ModelPackageError(`${file} has an invalid colourHead.${key}.`);
  }
}

/**
 * Checks every file the manifest lists: present, of the recorded size, and with the recorded sha256.
 *
 * @returns the files' contents by name
 * @throws ModelPackageError naming the first file that fails
 */
export async function verifyPackageFiles(dir: string, manifest: ModelManifest): Promise<Record<string, Buffer>> {
  const contents: Record<string, Buffer> = {};
  for (const [name, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch {
      throw new ModelPackageError(`${file} is missing from the package.`);
    }
    if (bytes.byteLength !== expected.bytes) {
      throw new ModelPackageError(
        `${file} has ${bytes.byteLength} bytes; the manifest records ${expected.bytes} (truncated or replaced).`,
      );
    }
    if (sha256(bytes) !== expected.sha256) {
      throw new ModelPackageError(`${file} is corrupt: its sha256 does not match the manifest.`);
    }
    contents[name] = bytes;
  }
  return contents;
}
