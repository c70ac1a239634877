/**
 * Exports trained TSPR weights as a model package: three ONNX graphs split where the engine needs to
 * work in pieces, and a manifest (package-format.ts, written by package-writer.ts) that describes and checksums them.
 *
 * - `encoder.onnx`: image [1, 3, H, W] in [-1, 1] → latent [1, 12ngf, H/4, W/4]: stem and body, then the
 *   global-style net's vector broadcast into channels [4ngf, 8ngf) (trainer/networks/encoder.ts).
 * - `tpfr.onnx`: content rows and peer rows → recombined rows (tpfr-to-onnx.ts).
 * - `decoder.onnx`: latent → image through the main merge + decoder with tanh; with the colour head, the
 *   pre-tanh output, and the head's weights go into the manifest (the engine applies it, since it needs
 *   statistics of the whole image, which a tiled decoder never holds at once).
 * - unless `tiled: false`, the graphs for large images: `encoder-tiled.onnx`, `global.onnx` and
 *   `decoder-tiled.onnx` (tiled-graphs.ts).
 *
 * The graphs are emitted from the same layer lists the TF.js forward pass applies, so the export parity
 * test holds the two consumers together.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { findLatestCheckpoint, readCheckpoint } from '../checkpoint';
import { latentChannels, type ModelConfig, type TrainConfig } from '../config';
import type { NamedArray } from '../nn/params';
import { encoderBodyLayers, encoderStemLayers } from '../networks/encoder';
import { globalStyleLayers } from '../networks/global-style';
import { encodeWeights, readWeights, WEIGHTS_FILES } from '../weights';
import { attr, DEFAULT_OPSET, GraphBuilder } from './graph-builder';
import { emitLayers, type InstanceNormMode, type ParamSource } from './layers-to-onnx';
import { colourHeadWeights } from '../layers/colour-head';
import { decoderToOnnx } from './decoder-to-onnx';
import {
  conditionSideProblem,
  DECODER_IO,
  isConditionSide,
  ENCODER_IO,
  type ColourHeadParams,
  type ModelManifest,
  type TrainingInfo,
} from './package-format';
import { writePackage } from './package-writer';
import { buildTiledGraphs } from './tiled-graphs';
import { tpfrToOnnx } from './tpfr-to-onnx';

export { DECODER_IO, ENCODER_IO };

/** The three graphs of a package, as `.onnx` bytes. */
export interface ModelGraphs {
  encoder: Uint8Array;
  tpfr: Uint8Array;
  decoder: Uint8Array;
}

/** Options for {@link buildModelGraphs}. */
export interface GraphOptions {
  /** Instance-norm form of the encoder and decoder (see layers-to-onnx.ts). @default 'builtin' */
  instanceNorm?: InstanceNormMode;
  /** Also write the graphs for large images in tiles (tiled-graphs.ts). @default true */
  tiled?: boolean;
}

/** Builds the encoder, TPFR and decoder graphs from weights. */
export function buildModelGraphs(params: ParamSource, cfg: ModelConfig, options: GraphOptions = {}): ModelGraphs {
  const instanceNorm = options.instanceNorm ?? 'builtin';
  return {
    encoder: encoderToOnnx(params, cfg, instanceNorm),
    tpfr: tpfrToOnnx(params, cfg, { opset: DEFAULT_OPSET }),
    decoder: decoderToOnnx(params, cfg, instanceNorm),
  };
}

/** Encoder graph: stem + body, then the global-style vector broadcast over the latent's middle third. */
function encoderToOnnx(params: ParamSource, cfg: ModelConfig, instanceNorm: InstanceNormMode): Uint8Array {
  const { content, globalStyle, total } = latentChannels(cfg);
  const g = new GraphBuilder('peerstyle-encoder');
  const image = g.input(ENCODER_IO.image, ['batch', 3, 'height', 'width']);
  const raw = emitLayers(g, params, [...encoderStemLayers(cfg), ...encoderBodyLayers(cfg)], image, 3, {
    instanceNorm,
  }).output; // [B, 12ngf, H/4, W/4]
  const [zContent, zGlobal, zLocal] = g.node(
    'Split',
    [raw, g.int64Initializer('latent.split', [3], [content, globalStyle, total - content - globalStyle])],
    { axis: attr.int(1) },
    { hint: 'latent', outputs: 3 },
  ); // [B, 4ngf, h, w] each
  // The global net's statistics get their own prefix so that they never collide with the body's.
  const vector = emitLayers(g, params, globalStyleLayers(cfg), zGlobal, globalStyle, {
    instanceNorm,
    statisticsPrefix: 'global.',
  }).output; // [B, 4ngf, 1, 1]
  const broadcast = g.op('Expand', [vector, g.op('Shape', [zGlobal])], {}, 'global.broadcast'); // [B, 4ngf, h, w]
  const latent = g.op('Concat', [zContent, broadcast, zLocal], { axis: attr.int(1) }, 'latent.out'); // [B, 12ngf, h, w]
  g.output(latent, ['batch', total, 'latent_height', 'latent_width'], ENCODER_IO.latent);
  return g.toBytes({ opset: DEFAULT_OPSET });
}

/** Weights already in memory, with what the manifest should say about them. */
export interface InMemoryModel {
  params: ParamSource;
  cfg: ModelConfig;
  preset: string;
  training?: TrainingInfo;
}

/** A model read from disk: its parameters are plain arrays. */
export type LoadedModel = Omit<InMemoryModel, 'params'> & { params: Readonly<Record<string, NamedArray>> };

/** Options for {@link exportModel}. */
export interface ExportModelOptions extends GraphOptions {
  /** @default 'peerstyle-tspr' */
  name?: string;
  /** @default '0.1.0' */
  version?: string;
  /** Inference defaults written into the manifest (ModelManifest.defaults). */
  defaults?: ModelManifest['defaults'];
}

/**
 * Writes a model package to `outDir` from a weights directory (`<run>/model`, or a run folder holding
 * one), a checkpoint folder, or weights in memory.
 *
 * @returns the manifest written
 */
export async function exportModel(
  source: string | InMemoryModel,
  outDir: string,
  options: ExportModelOptions = {},
): Promise<ModelManifest> {
  const model = typeof source === 'string' ? await readModelSource(source) : source;
  const tiledGraphs = options.tiled !== false;
  const defaults = withConditionSide(model.cfg, tiledGraphs, options.defaults);
  const conditionProblem = conditionSideProblem(model.cfg, tiledGraphs, defaults?.conditionSide);
  if (conditionProblem) throw new Error(`Cannot read the style condition at a fixed side: ${conditionProblem}`);
  const graphs = buildModelGraphs(model.params, model.cfg, options);
  const tiled = options.tiled === false ? undefined : buildTiledGraphs(model.params, model.cfg);
  const extra = tiled
    ? { encoderTiled: tiled.encoderTiled, global: tiled.global, decoderTiled: tiled.decoderTiled }
    : {};
  const colourHead: ColourHeadParams | undefined = model.cfg.colorHead
    ? colourHeadWeights(namedArrays(model.params), 'dec')
    : undefined;
  return writePackage(
    outDir,
    { ...graphs, ...extra },
    {
      ...(colourHead ? { colourHead } : {}),
      ...(defaults ? { defaults } : {}),
      ...(tiled
        ? {
            tiling: {
              encoderHalo: tiled.halo.encoder,
              decoderHalo: tiled.halo.decoder,
              encoderNorms: tiled.norms.encoder,
              decoderNorms: tiled.norms.decoder,
            },
          }
        : {}),
      name: options.name ?? 'peerstyle-tspr',
      version: options.version ?? '0.1.0',
      preset: model.preset,
      config: model.cfg,
      training: model.training,
    },
    weightFiles(model),
  );
}

/**
 * The defaults with, for a modulated model exported with its tiled graphs, `conditionSide` set to the
 * side of the crops it was trained on when they do not set it: the size its decoders learnt the style
 * condition at, so that every package of such weights (a training job's too) reads it there.
 */
function withConditionSide(
  cfg: ModelConfig,
  tiledGraphs: boolean,
  defaults: ModelManifest['defaults'],
): ModelManifest['defaults'] {
  const cropSize = (cfg as Partial<TrainConfig>).cropSize;
  if (!cfg.styleModulation || !tiledGraphs || defaults?.conditionSide !== undefined || !isConditionSide(cropSize))
    return defaults;
  return { ...defaults, conditionSide: cropSize };
}

/**
 * The weights as `weights.json` + `weights.bin` (trainer/weights.ts), discriminator included, so that a
 * package can start a new training run (`peerstyle train --init <package>`) and not only stylize.
 */
function weightFiles(model: InMemoryModel): Record<string, Uint8Array> {
  const { json, bin } = encodeWeights(namedArrays(model.params), {
    preset: model.preset,
    config: model.cfg as TrainConfig,
    iteration: model.training?.iterations ?? 0,
    trainSeconds: model.training?.trainSeconds ?? 0,
    dataset: model.training?.dataset ?? 'unknown',
  });
  return { [WEIGHTS_FILES.json]: json, [WEIGHTS_FILES.bin]: bin };
}

/**
 * Reads weights from `<dir>/weights.json`, `<dir>/model/weights.json`, a checkpoint's `state.json`, or
 * the latest checkpoint of a run folder (`<dir>/checkpoints/latest`) that has not finished yet.
 */
export async function readModelSource(dir: string): Promise<LoadedModel> {
  const candidates = [dir, path.join(dir, 'model')];
  for (const candidate of candidates) {
    if (await exists(path.join(candidate, 'weights.json'))) {
      const { meta, arrays } = await readWeights(candidate);
      return {
        params: arrays,
        cfg: meta.config,
        preset: meta.preset,
        training: { dataset: meta.dataset, iterations: meta.iteration, trainSeconds: meta.trainSeconds },
      };
    }
  }
  const latest = await findLatestCheckpoint(path.join(dir, 'checkpoints'));
  const checkpoint = (await exists(path.join(dir, 'state.json'))) ? dir : latest;
  if (checkpoint) {
    const { meta, arrays } = await readCheckpoint(checkpoint);
    const params: Record<string, NamedArray> = {};
    for (const [key, a] of Object.entries(arrays)) if (key.startsWith('param/')) params[key.slice('param/'.length)] = a;
    return {
      params,
      cfg: meta.config,
      preset: meta.preset,
      training: {
        dataset: meta.dataset ?? 'unknown',
        iterations: meta.trainer.iteration,
        trainSeconds: meta.trainSeconds,
      },
    };
  }
  throw new Error(
    `No weights found in ${dir}. Expected a model folder with weights.json, a run folder with model/weights.json or checkpoints/, or a checkpoint folder with state.json.`,
  );
}

function namedArrays(params: ParamSource): Readonly<Record<string, NamedArray>> {
  const source = params as { toNamedArrays?: () => Record<string, NamedArray> };
  return typeof source.toNamedArrays === 'function'
    ? source.toNamedArrays()
    : (params as Readonly<Record<string, NamedArray>>);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
