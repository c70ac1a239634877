/**
 * The colour head: the last step of each decoder when `colorHead` is on, Peerstyle's one addition to
 * the TSPR architecture.
 *
 * Why: the reference encoder cannot see an image's mean colour. Its first convolution is linear, so a
 * constant RGB offset of the whole image adds a constant to each of its channels, which the instance
 * norm right after removes; every later layer sees the same features. (The global style vector does not
 * help either: the merge's instance norm removes it, see the README's "Model fidelity".) A decoder of that
 * latent can only guess colours from textures, and trained for thousands rather than the paper's 614k
 * iterations it paints every output in one drifting palette.
 *
 * What: the decoder's pre-tanh output h [B, H, W, 3] is normalised per image and channel over H×W, then
 * scaled and shifted by an affine map of the colour statistics c = [mean r, g, b, std r, g, b] of the
 * image whose colours the output should have (in [-1, 1] units): y = tanh(ĥ·(c·Ws + bs) + c·Wm + bm).
 * In training that image is the one the decoder reconstructs (rec_A, rec_style_B) or the style exemplar
 * (fake_B); at inference it is the style images (weighted like their peers) blended with the content by
 * strength. The map starts as the statistics themselves (shift = mean, scale = std), so a new model
 * begins by putting the exemplar's colour moments on the decoder's normalised output and learns from
 * there. Statistics are whole-image, so tiled decoding computes them over the assembled image.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray, ParamStore } from '../nn/params';
import { INSTANCE_NORM_EPS } from '../nn/spec';

/** Length of the colour statistics vector: mean and standard deviation of R, G and B. */
export const COLOUR_STATS = 6;

/** Parameter names of the head under a decoder prefix. */
export function colourHeadNames(prefix: string): {
  scaleWeight: string;
  scaleBias: string;
  shiftWeight: string;
  shiftBias: string;
} {
  return {
    scaleWeight: `${prefix}.colour.scaleWeight`,
    scaleBias: `${prefix}.colour.scaleBias`,
    shiftWeight: `${prefix}.colour.shiftWeight`,
    shiftBias: `${prefix}.colour.shiftBias`,
  };
}

/**
 * The head's initial weights, [6, 3] each: shift = the means, scale = the standard deviations.
 * Row-major, input statistic by output channel.
 */
export function initialColourHead(): { scale: number[]; shift: number[] } {
  const scale = new Array<number>(COLOUR_STATS * 3).fill(0);
  const shift = new Array<number>(COLOUR_STATS * 3).fill(0);
  for (let ch = 0; ch < 3; ch++) {
    shift[ch * 3 + ch] = 1; // mean of channel ch → shift of channel ch
    scale[(3 + ch) * 3 + ch] = 1; // std of channel ch → scale of channel ch
  }
  return { scale, shift };
}

/** Declares the head's parameters under `${prefix}.colour.`. */
export function declareColourHead(store: ParamStore, prefix: string): void {
  const names = colourHeadNames(prefix);
  const init = initialColourHead();
  store.constant(names.scaleWeight, [COLOUR_STATS, 3], 0);
  store.constant(names.shiftWeight, [COLOUR_STATS, 3], 0);
  tf.tidy(() => {
    store.get(names.scaleWeight).assign(tf.tensor2d(init.scale, [COLOUR_STATS, 3]));
    store.get(names.shiftWeight).assign(tf.tensor2d(init.shift, [COLOUR_STATS, 3]));
  });
  store.constant(names.scaleBias, [3], 0);
  store.constant(names.shiftBias, [3], 0);
}

/**
 * Colour statistics of images [B, H, W, 3] in [-1, 1]: [B, 6] = mean and (population) standard deviation
 * of each channel over H×W. Carries no gradient: they describe inputs, never outputs.
 */
export function colourStats(images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(images, [1, 2]); // [B, 3] each
    return tf.concat([mean, tf.sqrt(variance)], 1) as tf.Tensor2D;
  });
}

/**
 * Applies the head: pre-tanh decoder output [B, H, W, 3] and colour statistics [B, 6] → image in [-1, 1].
 */
export function applyColourHead(
  store: ParamStore,
  prefix: string,
  preTanh: tf.Tensor4D,
  stats: tf.Tensor2D,
): tf.Tensor4D {
  return tf.tidy(() => {
    const names = colourHeadNames(prefix);
    const { mean, variance } = tf.moments(preTanh, [1, 2], true); // [B, 1, 1, 3] each
    const normalised = tf.div(tf.sub(preTanh, mean), tf.sqrt(tf.add(variance, INSTANCE_NORM_EPS)));
    const affine = (weight: string, bias: string) =>
      tf.reshape(tf.add(tf.matMul(stats, store.get(weight)), store.get(bias)), [stats.shape[0], 1, 1, 3]);
    const scale = affine(names.scaleWeight, names.scaleBias);
    const shift = affine(names.shiftWeight, names.shiftBias);
    return tf.tanh(tf.add(tf.mul(normalised, scale), shift)) as tf.Tensor4D;
  });
}

/**
 * The `colorMean` output step: an image [B, H, W, 3] in [-1, 1] with each channel's mean over H×W
 * replaced by the mean in `stats` [B, 6] (its first three entries), and with `matchStd` (`colorStd`)
 * its deviation by the deviation there (the last three). The result can step slightly outside
 * [-1, 1] where the shift pushes a saturated pixel; the engine clamps when it writes bytes, and the
 * losses see the true values. The engine's copy is functions/engine/colour-head.ts: withMeanColour.
 */
export function withMeanColour(image: tf.Tensor4D, stats: tf.Tensor2D, matchStd = false): tf.Tensor4D {
  return tf.tidy(() => {
    const [b] = image.shape;
    const { mean: own, variance } = tf.moments(image, [1, 2], true); // [B, 1, 1, 3] each
    const target = tf.reshape(tf.slice(stats, [0, 0], [b, 3]), [b, 1, 1, 3]);
    if (!matchStd) return tf.add(image, tf.sub(target, own)) as tf.Tensor4D;
    const targetStd = tf.reshape(tf.slice(stats, [0, 3], [b, 3]), [b, 1, 1, 3]);
    const gain = tf.div(targetStd, tf.sqrt(tf.add(variance, COLOUR_STD_FLOOR ** 2)));
    return tf.add(tf.mul(tf.sub(image, own), gain), target) as tf.Tensor4D;
  });
}

/**
 * With `colorStd`, the output's deviation is taken as at least this (in [-1, 1] units, 1.3 grey levels
 * of 255), so a flat output is not amplified without bound. The engine's twin uses the same floor.
 */
export const COLOUR_STD_FLOOR = 0.01;

/** The head's weights as plain numbers, for the model package (trainer/export/package-format.ts). */
export function colourHeadWeights(
  arrays: Readonly<Record<string, NamedArray>>,
  prefix: string,
): { eps: number; scaleWeight: number[]; scaleBias: number[]; shiftWeight: number[]; shiftBias: number[] } {
  const names = colourHeadNames(prefix);
  const read = (name: string, length: number): number[] => {
    const a = arrays[name];
    if (a === undefined || a.data.length !== length)
      throw new Error(`The colour head needs parameter "${name}" with ${length} values.`);
    return Array.from(a.data);
  };
  return {
    eps: INSTANCE_NORM_EPS,
    scaleWeight: read(names.scaleWeight, COLOUR_STATS * 3),
    scaleBias: read(names.scaleBias, 3),
    shiftWeight: read(names.shiftWeight, COLOUR_STATS * 3),
    shiftBias: read(names.shiftBias, 3),
  };
}
