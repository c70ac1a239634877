/**
 * Style modulation (the `styleModulation` key): each decoder's instance norms are followed by a
 * per-channel scale and shift computed from the style codes being decoded. Peerstyle's addition to TSPR.
 *
 * Why: the reference decoder opens with a 1×1 merge conv and an instance norm. Whatever is constant over
 * positions in a channel of the latent (the global style vector entirely, and most of each local style
 * code: 83% of its energy in the 0.6.0 model, `bench/latent-codes.ts`) becomes a per-channel constant
 * after the merge, and the instance norm subtracts it. So the decoder cannot tell one style from another
 * by what is common to the whole style image, only by how the recombined codes vary from place to
 * place; given a texture loss it can match a palette (which the colour step supplies) but has no input
 * saying which strokes to draw. Conditioning the norms on summary statistics of the codes gives it that
 * input, as adaptive instance norm and conditional instance norm do for feed-forward stylisation
 * networks (Huang & Belongie 2017; Dumoulin et al. 2017).
 *
 * The condition is the latent's style part (global | local codes) summarised per channel over positions
 * by its mean and its deviation: [B, 2·8ngf]. At inference the style part is TPFR's recombination of the
 * style images' codes (blended with the content's own by the strength), so the summary describes the
 * style the output takes, and at strength 0 the content's own. Its weights start at zero, so a model
 * trained without modulation loads into one with it and renders exactly as before until it learns.
 */
import * as tf from '@tensorflow/tfjs-core';

import { latentChannels, type ModelConfig } from '../config';
import type { ParamStore } from '../nn/params';
import type { Layer } from '../nn/spec';
import { STYLE_STATISTICS_EPS } from '../export/package-format';

export { STYLE_STATISTICS_EPS };

/** Width of the condition: the mean and the deviation of every style channel. */
export function styleConditionChannels(cfg: ModelConfig): number {
  const { content, total } = latentChannels(cfg);
  return 2 * (total - content);
}

/** A modulation layer for `channels` channels, conditioned on the style statistics of `cfg`'s latent. */
export function modulate(cfg: ModelConfig, name: string, channels: number): Layer {
  return { kind: 'modulate', name, conditionChannels: styleConditionChannels(cfg), channels };
}

/**
 * The condition of a latent [B, h, w, 12ngf]: per style channel, its mean and its deviation
 * (sqrt of the biased variance + eps) over positions, as [B, 2·8ngf] (means first).
 */
export function styleStatistics(cfg: ModelConfig, latent: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const { content, total } = latentChannels(cfg);
    const [b, h, w] = latent.shape;
    const style = tf.slice(latent, [0, 0, 0, content], [b, h, w, total - content]);
    const { mean, variance } = tf.moments(style, [1, 2]); // [B, 8ngf] each
    return tf.concat([mean, tf.sqrt(tf.add(variance, STYLE_STATISTICS_EPS))], 1) as tf.Tensor2D;
  });
}

/** Whether a parameter belongs to a modulation layer (their names end in `.mod`, `.mod1` or `.mod2`, then the part). */
export function isModulationParam(name: string): boolean {
  return /\.mod\d?\.(scale|shift)\.(weight|bias)$/.test(name);
}

/** Registers a modulation layer's four parameters, all zero (the layer starts as identity). */
export function declareModulation(store: ParamStore, layer: Extract<Layer, { kind: 'modulate' }>): void {
  for (const part of ['scale', 'shift']) {
    store.constant(`${layer.name}.${part}.weight`, [layer.conditionChannels, layer.channels], 0);
    store.constant(`${layer.name}.${part}.bias`, [layer.channels], 0);
  }
}

/** x [B, H, W, C] · (1 + γ) + β, with γ and β [B, C] linear in `condition` [B, conditionChannels]. */
export function applyModulation(
  store: ParamStore,
  layer: Extract<Layer, { kind: 'modulate' }>,
  x: tf.Tensor4D,
  condition: tf.Tensor2D | undefined,
): tf.Tensor4D {
  if (condition === undefined) {
    throw new Error(`Layer "${layer.name}" modulates by style statistics, but the network was run without them.`);
  }
  if (condition.shape[1] !== layer.conditionChannels || condition.shape[0] !== x.shape[0]) {
    throw new Error(
      `Layer "${layer.name}" expects style statistics [${x.shape[0]}, ${layer.conditionChannels}], got [${condition.shape}].`,
    );
  }
  return tf.tidy(() => {
    const affine = (part: string): tf.Tensor4D => {
      const weight = store.get(`${layer.name}.${part}.weight`) as tf.Tensor as tf.Tensor2D;
      const bias = store.get(`${layer.name}.${part}.bias`);
      return tf.reshape(tf.add(tf.matMul(condition, weight), bias), [x.shape[0], 1, 1, layer.channels]);
    };
    return tf.add(tf.mul(x, tf.add(affine('scale'), 1)), affine('shift')) as tf.Tensor4D;
  });
}
