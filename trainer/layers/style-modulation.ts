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
 *
 * Each decoder standardises the condition with running statistics of it (its mean and variance over
 * the latents the decoder has seen in training) before the linear maps. Why: in 0.6.0 the codes'
 * per-channel means differ between style images by a tenth of their typical size and their deviations
 * by a quarter (bench/latent-codes.ts), so unstandardised, the part every image shares dominates each weight's gradient and the maps first learn
 * one response for all styles (a fine-tune without standardising drew the same diagonal hatching over
 * every style after 500 iterations). The statistics are state, not weights: a running average over the
 * first {@link CONDITION_AVERAGE_SPAN} updates, then an exponential one with weight 1/span. They start
 * at mean 0 and variance 1, where standardising is the identity, and the exporter folds them into the
 * linear maps, so the graphs and the engine never see them.
 */
import * as tf from '@tensorflow/tfjs-core';

import { latentChannels, type ModelConfig } from '../config';
import type { ParamStore } from '../nn/params';
import type { Layer } from '../nn/spec';
import { STYLE_STATISTICS_EPS } from '../export/package-format';

export { STYLE_STATISTICS_EPS };

/** Updates over which the running statistics of the condition are a plain average before becoming exponential. */
export const CONDITION_AVERAGE_SPAN = 500;
/** The smallest variance the condition is divided by (the global codes' deviations never vary). */
export const CONDITION_VARIANCE_FLOOR = 1e-4;

/** Names of a decoder's running statistics of its condition. */
export function conditionStatisticsNames(prefix: string): { mean: string; variance: string; count: string } {
  return { mean: `${prefix}.condition.mean`, variance: `${prefix}.condition.var`, count: `${prefix}.condition.count` };
}

/** Registers a decoder's running statistics of its condition: mean 0, variance 1, no updates yet. */
export function declareConditionStatistics(store: ParamStore, prefix: string, channels: number): void {
  const names = conditionStatisticsNames(prefix);
  store.state(names.mean, [channels], 0);
  store.state(names.variance, [channels], 1);
  store.state(names.count, [1], 0);
}

/**
 * Folds the rows of `condition` [B, K] into the decoder's running statistics: the rows' mean moves the
 * mean by 1/n of the difference, and the rows' spread around the old and new means moves the variance
 * the same way (Welford's update, so that below the span they are the mean and the biased variance of
 * every condition seen), with n the number of updates so far, capped at the span.
 */
export function updateConditionStatistics(store: ParamStore, prefix: string, condition: tf.Tensor2D): void {
  const names = conditionStatisticsNames(prefix);
  const mean = store.get(names.mean);
  const variance = store.get(names.variance);
  const count = store.get(names.count);
  tf.tidy(() => {
    const seen = count.dataSync()[0] ?? 0;
    const n = Math.min(seen + 1, CONDITION_AVERAGE_SPAN);
    const rows = tf.mean(condition, 0);
    const next = tf.add(mean, tf.div(tf.sub(rows, mean), n));
    const spread = tf.mean(tf.mul(tf.sub(condition, mean), tf.sub(condition, next)), 0);
    // The first update replaces the initial variance (1, where standardising is the identity) by the
    // spread of its own rows; from then on the biased variance of everything seen (Welford).
    const nextVariance = seen === 0 ? spread : tf.add(variance, tf.div(tf.sub(spread, variance), n));
    mean.assign(next);
    variance.assign(nextVariance);
    count.assign(tf.fill([1], seen + 1));
  });
}

/** Width of the condition: the mean and the deviation of every style channel. */
export function styleConditionChannels(cfg: ModelConfig): number {
  const { content, total } = latentChannels(cfg);
  return 2 * (total - content);
}

/** A modulation layer for `channels` channels, conditioned on the style statistics of `cfg`'s latent. */
export function modulate(cfg: ModelConfig, prefix: string, name: string, channels: number): Layer {
  return {
    kind: 'modulate',
    name,
    conditionChannels: styleConditionChannels(cfg),
    channels,
    statistics: `${prefix}.condition`,
  };
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

/**
 * Whether a parameter belongs to style modulation: a modulation layer's (`.mod`, `.mod1` or `.mod2`,
 * then the part) or a decoder's running statistics of its condition.
 */
export function isModulationParam(name: string): boolean {
  return /\.mod\d?\.(scale|shift)\.(weight|bias)$/.test(name) || /\.condition\.(mean|var|count)$/.test(name);
}

/** Registers a modulation layer's four parameters, all zero (the layer starts as identity). */
export function declareModulation(store: ParamStore, layer: Extract<Layer, { kind: 'modulate' }>): void {
  for (const part of ['scale', 'shift']) {
    store.constant(`${layer.name}.${part}.weight`, [layer.conditionChannels, layer.channels], 0);
    store.constant(`${layer.name}.${part}.bias`, [layer.channels], 0);
  }
}

/**
 * x [B, H, W, C] · (1 + γ) + β, with γ and β [B, C] linear in `condition` [B, conditionChannels]
 * standardised by the decoder's running statistics (read only: decode() updates them in training).
 */
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
    const standard = tf.div(
      tf.sub(condition, store.get(`${layer.statistics}.mean`)),
      tf.sqrt(tf.maximum(store.get(`${layer.statistics}.var`), CONDITION_VARIANCE_FLOOR)),
    ) as tf.Tensor2D;
    const affine = (part: string): tf.Tensor4D => {
      const weight = store.get(`${layer.name}.${part}.weight`) as tf.Tensor as tf.Tensor2D;
      const bias = store.get(`${layer.name}.${part}.bias`);
      return tf.reshape(tf.add(tf.matMul(standard, weight), bias), [x.shape[0], 1, 1, layer.channels]);
    };
    return tf.add(tf.mul(x, tf.add(affine('scale'), 1)), affine('shift')) as tf.Tensor4D;
  });
}
