/**
 * Style identification: can an output's texture tell which of the run's style images it was made
 * with? The Gram distance says how far an output is from its own style; a model that draws one
 * generic grain under every textured style can still score well on it. Here each output is compared
 * with every style image of the run, and the figure is the share of the other styles that lie farther
 * from it than its own (ties count half): 1 when its own style is the nearest, about 0.5 when the
 * texture carries no trace of which style it came from.
 *
 * Only texture is compared, not colour or contrast: the images are reduced to luma and standardised
 * (mean and deviation removed), so Reinhard's colour transfer, which changes neither the content's
 * structure nor its relative contrast, scores as a texture-free baseline. The texture net sees about
 * 10 px at once; the comparison runs it over a three-level pyramid (full, half and quarter side), so
 * cells, stones and strokes of a few tens of pixels count as well as grain.
 */
import { luminance } from './luminance';
import type { RgbImage } from './rgb-image';
import { gramDistance, gramMatrices, type TextureNet } from './texture-net';

/** Levels of the pyramid: the image, then halved twice. */
export const IDENTIFICATION_LEVELS = 3;

/** Grey level and deviation the standardised luma is drawn at (within 0..255 for ±2.6 deviations). */
const GREY_MEAN = 128;
const GREY_STD = 48;

/** The shortest side an image needs: the coarsest level must keep the net's minimum of 4 × 4 pixels. */
export const IDENTIFICATION_MIN_SIDE = 4 * 2 ** (IDENTIFICATION_LEVELS - 1);

/** Whether an image is large enough for {@link textureSignature}. */
export function canIdentify(image: RgbImage): boolean {
  return Math.min(image.width, image.height) >= IDENTIFICATION_MIN_SIDE;
}

/** What an image's texture is compared by: the Gram matrices of every layer at every pyramid level. */
export type TextureSignature = Float64Array[];

/** The image's luma, standardised, as a grey RGB image; a flat image becomes uniform mid-grey. */
export function standardisedGrey(image: RgbImage): RgbImage {
  const luma = luminance(image).data;
  const n = luma.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += luma[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (luma[i]! - mean) ** 2;
  const std = Math.sqrt(variance / n);
  const scale = std > 1e-6 ? GREY_STD / std : 0;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    // Clamped by hand: a Uint8Array wraps values outside 0..255 rather than clipping them.
    const grey = Math.round(GREY_MEAN + scale * (luma[i]! - mean));
    data.fill(Math.max(0, Math.min(255, grey)), 3 * i, 3 * i + 3);
  }
  return { data, width: image.width, height: image.height };
}

/** 2×2 average of an RGB image; an odd last row or column is dropped. */
export function halve(image: RgbImage): RgbImage {
  const width = Math.floor(image.width / 2);
  const height = Math.floor(image.height / 2);
  const src = image.data;
  const row = 3 * image.width;
  const data = new Uint8Array(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = 2 * y * row + 6 * x + c;
        data[3 * (y * width + x) + c] = Math.round((src[i]! + src[i + 3]! + src[i + row]! + src[i + row + 3]!) / 4);
      }
    }
  }
  return { data, width, height };
}

/** The texture signature of an image with a short side of at least {@link IDENTIFICATION_MIN_SIDE}. */
export function textureSignature(net: TextureNet, image: RgbImage): TextureSignature {
  if (!canIdentify(image)) {
    const side = IDENTIFICATION_MIN_SIDE;
    throw new Error(`Style identification needs at least ${side}×${side} pixels, got ${image.width}×${image.height}.`);
  }
  const signature: TextureSignature = [];
  let level = standardisedGrey(image);
  for (let i = 0; i < IDENTIFICATION_LEVELS; i++) {
    if (i > 0) level = halve(level);
    signature.push(...gramMatrices(net, level));
  }
  return signature;
}

/**
 * The share of the other styles farther from `output` than its own style `own` (ties count half), or
 * null when there is nothing to compare: no signature of the output or of its own style (too small an
 * image), or no other style to tell it from.
 */
export function identificationScore(
  output: TextureSignature | null,
  styles: ReadonlyMap<number, TextureSignature>,
  own: number,
): number | null {
  const ownSignature = styles.get(own);
  if (!output || !ownSignature) return null;
  const ownDistance = gramDistance(output, ownSignature);
  let others = 0;
  let farther = 0;
  for (const [index, signature] of styles) {
    if (index === own) continue;
    const d = gramDistance(output, signature);
    others++;
    if (d > ownDistance) farther++;
    else if (d === ownDistance) farther += 0.5;
  }
  return others ? farther / others : null;
}
