/**
 * TSPR's decoder with its merge layer (Svoboda et al., CVPR 2020; official code models/networks.py,
 * model_merge + model_dec and their _aux copies). The merge conv folds the 12·ngf-channel latent back to
 * 4·ngf, residual blocks refine it, two transposed convs restore full resolution and a 7×7 conv with tanh
 * emits an image in [-1, 1]. The main ('dec') and auxiliary ('decAux') decoders are two instances of this
 * one definition that differ only in their parameter prefix, which also decides their optimiser.
 */
import type * as tf from '@tensorflow/tfjs-core';

import { latentChannels, type ModelConfig } from '../config';
import { conv, convTranspose, norm, relu, resnetBlock } from '../layers/builders';
import { applyColourHead, colourStats, declareColourHead, withMeanColour } from '../layers/colour-head';
import { colourGaussians, withColourCovariance } from '../layers/colour-covariance';
import {
  declareConditionStatistics,
  modulate,
  styleConditionChannels,
  styleStatistics,
  updateConditionStatistics,
} from '../layers/style-modulation';
import { applyLayers, declareLayers } from '../nn/apply';
import type { ParamStore } from '../nn/params';
import type { Layer } from '../nn/spec';

/** Parameter prefix of a decoder instance: the main decoder or the auxiliary one. */
export type DecoderPrefix = 'dec' | 'decAux';

export const DECODER_PREFIXES: readonly DecoderPrefix[] = ['dec', 'decAux'];

/**
 * Merge + decoder layers under `${prefix}.`: latent [B, H/4, W/4, 12ngf] → image [B, H, W, 3]. With the
 * colour head the list stops before the tanh: its output is the head's pre-tanh input.
 */
export function decoderLayers(cfg: ModelConfig, prefix: DecoderPrefix): Layer[] {
  if (!DECODER_PREFIXES.includes(prefix)) {
    throw new Error(`Unknown decoder prefix "${String(prefix)}". Expected one of: ${DECODER_PREFIXES.join(', ')}.`);
  }
  const { ngf } = cfg;
  const up = ngf * cfg.decoderWidth;
  // With styleModulation each norm is followed by a modulate layer of its channels (style-modulation.ts).
  const modulated = (name: string, channels: number): Layer[] =>
    cfg.styleModulation ? [modulate(cfg, prefix, name, channels)] : [];
  const layers: Layer[] = [
    conv(`${prefix}.merge`, latentChannels(cfg).total, 4 * ngf, 1), // [B, H/4, W/4, 4ngf]
    norm(),
    ...modulated(`${prefix}.merge.mod`, 4 * ngf),
    relu(),
  ];
  for (let i = 0; i < cfg.decoderBlocks; i++) {
    layers.push(resnetBlock(`${prefix}.block${i}`, 4 * ngf, (name) => modulated(name, 4 * ngf)));
  }
  layers.push(
    ...upLayers(cfg, `${prefix}.up1`, 4 * ngf, 2 * up), // [B, H/2, W/2, 2ngf·decoderWidth]
    norm(),
    ...modulated(`${prefix}.up1.mod`, 2 * up),
    relu(),
    ...upLayers(cfg, `${prefix}.up2`, 2 * up, up), // [B, H, W, ngf·decoderWidth]
    norm(),
    ...modulated(`${prefix}.up2.mod`, up),
    relu(),
    conv(`${prefix}.out`, up, 3, 7, { padding: 3, padMode: 'reflect' }), // [B, H, W, 3]
  );
  if (!cfg.colorHead) layers.push({ kind: 'tanh' });
  return layers;
}

/**
 * One doubling of the resolution: the reference's 4×4 stride-2 transposed conv, or (upsample 'nearest',
 * its create_decoder_model_upsample) a nearest-neighbour ×2 then a 5×5 conv. The reference pads that
 * conv with zeros; here it pads by reflection like every other stride-1 conv of the decoder, so the
 * border rows see no artificial dark frame (a zero frame is one source of edge seams).
 */
function upLayers(cfg: ModelConfig, name: string, inChannels: number, outChannels: number): Layer[] {
  const mode = cfg.upsample ?? 'transpose';
  if (mode === 'transpose') return [convTranspose(name, inChannels, outChannels, 4, 2, 1)];
  return [
    { kind: 'upsampleNearest', factor: 2 },
    conv(name, inChannels, outChannels, 5, { padding: 2, padMode: 'reflect' }),
  ];
}

/** Declares the merge and decoder parameters under `${prefix}.`. */
export function declareDecoder(store: ParamStore, cfg: ModelConfig, prefix: DecoderPrefix): void {
  declareLayers(store, decoderLayers(cfg, prefix));
  if (cfg.styleModulation) declareConditionStatistics(store, prefix, styleConditionChannels(cfg));
  if (cfg.colorHead) declareColourHead(store, prefix);
}

/** Options of {@link decode}. */
export interface DecodeOptions {
  /**
   * With styleModulation, fold this call's style statistics into the decoder's running statistics of
   * them before decoding (training's main decodes only). @default false
   */
  updateConditionStatistics?: boolean;
}

/**
 * Decodes a latent into an image in [-1, 1].
 *
 * @param latent - [B, h, w, 12·ngf]
 * @param colour - [B, 6] colour statistics the outputs should take (trainer/layers/colour-head.ts);
 *   required with the colour head or colorMean, ignored without them
 * @returns [B, 4h, 4w, 3]
 */
export function decode(
  store: ParamStore,
  cfg: ModelConfig,
  prefix: DecoderPrefix,
  latent: tf.Tensor4D,
  colour?: tf.Tensor2D,
  options: DecodeOptions = {},
): tf.Tensor4D {
  const condition = cfg.styleModulation ? styleStatistics(cfg, latent) : undefined;
  if (condition && options.updateConditionStatistics) updateConditionStatistics(store, prefix, condition);
  const out = applyLayers(store, decoderLayers(cfg, prefix), latent, { condition });
  condition?.dispose();
  if (cfg.colorMean) {
    if (colour === undefined || colour.shape[0] !== latent.shape[0]) {
      out.dispose();
      throw new Error(
        `colorMean needs colour statistics (decoderColour) for each of the decoder's ${latent.shape[0]} outputs.`,
      );
    }
    const image = cfg.colorCov ? withColourCovariance(out, colour) : withMeanColour(out, colour, cfg.colorStd);
    out.dispose();
    return image;
  }
  if (!cfg.colorHead) return out;
  if (colour === undefined || colour.shape[0] !== latent.shape[0]) {
    out.dispose();
    throw new Error(`The colour head needs colour statistics [${latent.shape[0]}, 6] for the decoder's batch.`);
  }
  const image = applyColourHead(store, prefix, out, colour);
  out.dispose();
  return image;
}

/**
 * The colour statistics `decode` takes from the images [B, H, W, 3] its outputs should look like: mean
 * and deviation per channel ([B, 6], colourStats), or with `colorCov` mean and covariance ([B, 12],
 * colourGaussians). They describe inputs, so they carry no gradient.
 */
export function decoderColour(cfg: ModelConfig, images: tf.Tensor4D): tf.Tensor2D {
  return cfg.colorCov ? colourGaussians(images) : colourStats(images);
}
