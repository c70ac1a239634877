/**
 * The engine's half of the colour head (trainer/layers/colour-head.ts): the colour statistics an output
 * should take, and the head itself on the decoder's pre-tanh output. It runs here rather than in the
 * decoder graph because it normalises over the whole image, which a tiled decoder never holds at once.
 */
import type { ColourHeadParams } from '../../trainer/export/package-format';
import type { FloatTensor } from './onnx-session';
import type { RgbImage } from './image-io';

/** Per-channel sums of an image's pixels in [-1, 1], from which weighted pooled statistics follow. */
export interface ColourMoments {
  count: number;
  sum: [number, number, number];
  sumSquares: [number, number, number];
}

/** Sums of the image's R, G and B values (scaled to [-1, 1]) and of their squares. */
export function colourMoments(image: RgbImage): ColourMoments {
  const sum: [number, number, number] = [0, 0, 0];
  const sumSquares: [number, number, number] = [0, 0, 0];
  const pixels = image.width * image.height;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      const v = image.data[3 * p + c]! / 127.5 - 1;
      sum[c]! += v;
      sumSquares[c]! += v * v;
    }
  }
  return { count: pixels, sum, sumSquares };
}

/**
 * The statistics [mean r, g, b, std r, g, b] of several images' pixels pooled, each image's pixels
 * weighted by its weight: the same weighting the style images' positions get as TPFR peers.
 */
export function pooledStats(parts: { moments: ColourMoments; weight: number }[]): number[] {
  let total = 0;
  const sum = [0, 0, 0];
  const sumSquares = [0, 0, 0];
  for (const { moments, weight } of parts) {
    total += weight * moments.count;
    for (let c = 0; c < 3; c++) {
      sum[c]! += weight * moments.sum[c]!;
      sumSquares[c]! += weight * moments.sumSquares[c]!;
    }
  }
  if (!(total > 0)) throw new Error('Colour statistics need at least one pixel with a positive weight.');
  const mean = sum.map((s) => s / total);
  const std = sumSquares.map((s, c) => Math.sqrt(Math.max(0, s / total - mean[c]! * mean[c]!)));
  return [...mean, ...std];
}

/** (1 − t)·a + t·b, element by element: the strength blend of the content's and the style's statistics. */
export function blendStats(a: number[], b: number[], t: number): number[] {
  return a.map((v, i) => (1 - t) * v + t * b[i]!);
}

/**
 * The head on a decoder output [1, 3, H, W] (pre-tanh): each channel normalised over H×W, scaled and
 * shifted by the affine maps of `stats`, then tanh. Returns a tensor in [-1, 1]: a new one, or with
 * `inPlace` the input's own buffer overwritten (a 4096 px output is 200 MB; the engine needs no copy).
 */
export function applyColourHead(
  preTanh: FloatTensor,
  stats: number[],
  head: ColourHeadParams,
  inPlace = false,
): FloatTensor {
  const [batch, channels, height, width] = preTanh.dims;
  if (batch !== 1 || channels !== 3 || height === undefined || width === undefined) {
    throw new Error(`The colour head takes [1, 3, H, W], got [${preTanh.dims}].`);
  }
  const plane = height * width;
  const out = inPlace ? preTanh.data : new Float32Array(preTanh.data.length);
  for (let c = 0; c < 3; c++) {
    let scale = head.scaleBias[c]!;
    let shift = head.shiftBias[c]!;
    for (const [i, stat] of stats.entries()) {
      scale += stat * head.scaleWeight[i * 3 + c]!;
      shift += stat * head.shiftWeight[i * 3 + c]!;
    }
    const base = c * plane;
    // Mean and biased variance in float64, over the whole plane.
    let sum = 0;
    for (let p = 0; p < plane; p++) sum += preTanh.data[base + p]!;
    const mean = sum / plane;
    let squares = 0;
    for (let p = 0; p < plane; p++) {
      const d = preTanh.data[base + p]! - mean;
      squares += d * d;
    }
    const factor = scale / Math.sqrt(squares / plane + head.eps);
    for (let p = 0; p < plane; p++) out[base + p] = Math.tanh((preTanh.data[base + p]! - mean) * factor + shift);
  }
  return { data: out, dims: preTanh.dims };
}

/**
 * The `colorMean` step on a decoder output [1, 3, H, W] in [-1, 1]: each channel's mean over H×W is
 * replaced by the first three entries of `stats`, and with `matchStd` (`colorStd`) its deviation by the
 * last three (trainer/layers/colour-head.ts: withMeanColour is the
 * training twin). Overwrites the input's buffer, like the head with `inPlace`.
 */
export function withMeanColour(image: FloatTensor, stats: number[], matchStd = false): FloatTensor {
  const [batch, channels, height, width] = image.dims;
  if (batch !== 1 || channels !== 3 || height === undefined || width === undefined) {
    throw new Error(`colorMean takes [1, 3, H, W], got [${image.dims}].`);
  }
  const plane = height * width;
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    let sum = 0; // float64
    for (let p = 0; p < plane; p++) sum += image.data[base + p]!;
    const mean = sum / plane;
    if (!matchStd) {
      const shift = stats[c]! - mean;
      for (let p = 0; p < plane; p++) image.data[base + p]! += shift;
      continue;
    }
    let squares = 0;
    for (let p = 0; p < plane; p++) squares += (image.data[base + p]! - mean) ** 2;
    const gain = stats[c + 3]! / Math.sqrt(squares / plane + COLOUR_STD_FLOOR ** 2);
    for (let p = 0; p < plane; p++) image.data[base + p] = (image.data[base + p]! - mean) * gain + stats[c]!;
  }
  return image;
}

/** The deviation floor of `colorStd` (trainer/layers/colour-head.ts: COLOUR_STD_FLOOR, the same value). */
const COLOUR_STD_FLOOR = 0.01;
