/**
 * The four figures measured for every output image: two of content preservation (against the content
 * image) and two of style match (against the style image). What each reference needs is computed once
 * per image and reused for every output compared with it, since a content or a style image takes part
 * in many pairs.
 */
import { imageToLab } from './lab';
import { edgeMap, luminance, type GreyImage } from './luminance';
import type { RgbImage } from './rgb-image';
import { slicedWasserstein } from './sliced-wasserstein';
import { ssim } from './ssim';
import { gramDistance, gramMatrices, type TextureNet } from './texture-net';

/** The metrics, in table order, with what they compare and which direction is better. */
export const METRICS = [
  {
    key: 'ssimLuma',
    label: 'SSIM luma ↑',
    description: 'SSIM (11×11 Gaussian window, σ 1.5, L 255) of the Rec. 601 luma of output and content',
  },
  {
    key: 'ssimEdges',
    label: 'SSIM edges ↑',
    description: 'SSIM of the Sobel magnitudes of the luma of output and content, scaled to 0..255',
  },
  {
    key: 'gramDistance',
    label: 'Gram distance ↓',
    description:
      'mean over the 3 layers of a fixed seeded random-weight conv net of ‖Go − Gs‖F / (‖Go‖F + ‖Gs‖F), G the centred Gram matrix (F − μ)ᵀ(F − μ) / HW, output vs style',
  },
  {
    key: 'colourSwd',
    label: 'colour SWD ↓',
    description:
      'sliced 2-Wasserstein distance (64 directions, ≤ 4096 pixels each) of the Lab colours of output and style',
  },
] as const;

/** The name of one metric. */
export type MetricKey = (typeof METRICS)[number]['key'];

/** One value per metric. */
export type MetricValues = Record<MetricKey, number>;

/** What the content-preservation metrics need from a content image. */
export interface ContentReference {
  width: number;
  height: number;
  luma: GreyImage;
  edges: GreyImage;
}

/** What the style-match metrics need from a style image. */
export interface StyleReference {
  grams: Float64Array[];
  lab: Float64Array;
}

/** Prepares a content image for comparison; outputs must then have its size. */
export function contentReference(image: RgbImage): ContentReference {
  return { width: image.width, height: image.height, luma: luminance(image), edges: edgeMap(image) };
}

/** Prepares a style image for comparison; outputs may have any size. */
export function styleReference(net: TextureNet, image: RgbImage): StyleReference {
  return { grams: gramMatrices(net, image), lab: imageToLab(image) };
}

/**
 * Measures one output against its content and its style. `outputGrams` may pass the output's Gram
 * matrices when the caller already has them (the texture network is the costly part).
 */
export function measurePair(
  net: TextureNet,
  output: RgbImage,
  content: ContentReference,
  style: StyleReference,
  outputGrams: Float64Array[] = gramMatrices(net, output),
): MetricValues {
  if (output.width !== content.width || output.height !== content.height) {
    throw new Error(
      `The output is ${output.width}×${output.height} but its content is ${content.width}×${content.height}; resize it first.`,
    );
  }
  return {
    ssimLuma: ssim(luminance(output), content.luma),
    ssimEdges: ssim(edgeMap(output), content.edges),
    gramDistance: gramDistance(outputGrams, style.grams),
    colourSwd: slicedWasserstein(imageToLab(output), style.lab),
  };
}

/** Mean and sample standard deviation (n − 1; 0 for a single value) of each metric over pairs. */
export interface MetricSummary {
  mean: number;
  std: number;
}

/** Summarises a list of per-pair values metric by metric. */
export function summarise(values: readonly MetricValues[]): Record<MetricKey, MetricSummary> {
  const out = {} as Record<MetricKey, MetricSummary>;
  for (const { key } of METRICS) {
    const xs = values.map((v) => v[key]);
    const n = xs.length;
    const mean = n ? xs.reduce((s, x) => s + x, 0) / n : NaN;
    const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
    out[key] = { mean, std };
  }
  return out;
}
