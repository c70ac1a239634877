/**
 * The reference's per-image training augmentation (`custom_transform` in the official code): resize the
 * shorter side to `round(loadSize × U(0.9, 1.1))` with bicubic interpolation, take a random
 * `cropSize × cropSize` crop, flip horizontally with probability ½, apply ColorJitter(0.05, 0.05, 0.05,
 * 0.05), and normalise to [-1, 1].
 *
 * Random choices are drawn up front into an {@link AugmentParams} record, in unit form (a crop position is
 * a fraction of the free range, not a pixel offset). Drawing therefore needs neither the image nor an
 * `await`, which keeps the sampler's random stream independent of decoding order and makes every choice
 * visible to tests. Colour jitter follows torchvision's tensor semantics: float arithmetic clamped to
 * [0, 1] after each of the four operations (its PIL path would also round to 8 bits between them).
 */
import { resizeAndCrop, type DecodedImage } from './decode-image';
import type { Random } from './random';

/** The four ColorJitter operations, applied in a random order per image as torchvision does. */
export const JITTER_OPS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
export type JitterOp = (typeof JITTER_OPS)[number];

/** Strength of each ColorJitter component in the reference (`ColorJitter(0.05, 0.05, 0.05, 0.05)`). */
export const JITTER_STRENGTH = 0.05;
/** Bounds of the random scale applied to `loadSize`. */
export const SCALE_RANGE: readonly [number, number] = [0.9, 1.1];

/** Every random choice for one image, drawn by {@link drawAugmentParams}. */
export interface AugmentParams {
  /** Multiplier of `loadSize` for the shorter side, in [0.9, 1.1). */
  scale: number;
  /** Horizontal crop position as a fraction of the free range, in [0, 1). */
  cropX: number;
  /** Vertical crop position as a fraction of the free range, in [0, 1). */
  cropY: number;
  /** Mirror left-right. */
  flip: boolean;
  /** Brightness factor in [0.95, 1.05). */
  brightness: number;
  /** Contrast factor in [0.95, 1.05). */
  contrast: number;
  /** Saturation factor in [0.95, 1.05). */
  saturation: number;
  /** Hue shift in turns, in [-0.05, 0.05). */
  hue: number;
  /** The order in which the four jitter operations run. */
  jitterOrder: JitterOp[];
}

/** The two sizes of the reference's augmentation (see `TrainConfig`). */
export interface AugmentSize {
  /** Shorter side before the random scale. */
  loadSize: number;
  /** Side of the square output. */
  cropSize: number;
}

/** Where the crop falls: the size the image is resized to and the crop's top-left corner in it. */
export interface CropGeometry {
  resizedWidth: number;
  resizedHeight: number;
  left: number;
  top: number;
}

/** Draws one image's augmentation choices; the same generator state always gives the same record. */
export function drawAugmentParams(rng: Random): AugmentParams {
  const s = JITTER_STRENGTH;
  return {
    scale: rng.uniform(SCALE_RANGE[0], SCALE_RANGE[1]),
    cropX: rng.next(),
    cropY: rng.next(),
    flip: rng.next() < 0.5,
    jitterOrder: rng.shuffle([...JITTER_OPS]),
    brightness: rng.uniform(1 - s, 1 + s),
    contrast: rng.uniform(1 - s, 1 + s),
    saturation: rng.uniform(1 - s, 1 + s),
    hue: rng.uniform(-s, s),
  };
}

/**
 * Resolves the unit-form choices against an image's size. The shorter side becomes
 * `round(loadSize × scale)`, raised to `cropSize` when smaller so that a full crop always fits; the
 * longer side keeps the aspect ratio, truncated as torchvision's `Resize` does.
 */
export function cropGeometry(width: number, height: number, params: AugmentParams, size: AugmentSize): CropGeometry {
  const shorter = Math.max(size.cropSize, Math.round(size.loadSize * params.scale));
  const portrait = width <= height;
  const resizedWidth = portrait ? shorter : Math.max(shorter, Math.floor((shorter * width) / height));
  const resizedHeight = portrait ? Math.max(shorter, Math.floor((shorter * height) / width)) : shorter;
  // Like RandomCrop: every offset from 0 to (resized − crop) inclusive is equally likely.
  const left = Math.floor(params.cropX * (resizedWidth - size.cropSize + 1));
  const top = Math.floor(params.cropY * (resizedHeight - size.cropSize + 1));
  return { resizedWidth, resizedHeight, left, top };
}

/** ITU-R 601 luma weights, as torchvision's `rgb_to_grayscale`. */
function luma(r: number, g: number, b: number): number {
  return 0.2989 * r + 0.587 * g + 0.114 * b;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Scales every value by `f` (a blend towards black), clamped. */
function scaleBrightness(rgb: Float32Array, f: number): void {
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp01(f * (rgb[i] as number));
}

/** Blends every channel towards the image's mean luma: `f·x + (1−f)·mean`, clamped. */
function scaleContrast(rgb: Float32Array, f: number): void {
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += luma(rgb[i] as number, rgb[i + 1] as number, rgb[i + 2] as number);
  const offset = (1 - f) * (sum / (rgb.length / 3));
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp01(f * (rgb[i] as number) + offset);
}

/** Blends each pixel towards its own luma: `f·x + (1−f)·luma(x)`, clamped. */
function scaleSaturation(rgb: Float32Array, f: number): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i] as number;
    const g = rgb[i + 1] as number;
    const b = rgb[i + 2] as number;
    const offset = (1 - f) * luma(r, g, b);
    rgb[i] = clamp01(f * r + offset);
    rgb[i + 1] = clamp01(f * g + offset);
    rgb[i + 2] = clamp01(f * b + offset);
  }
}

/** Rotates hue by `shift` turns through HSV, with torchvision's `_rgb2hsv` / `_hsv2rgb` conventions. */
function shiftHue(rgb: Float32Array, shift: number): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i] as number;
    const g = rgb[i + 1] as number;
    const b = rgb[i + 2] as number;
    const max = Math.max(r, g, b);
    const chroma = max - Math.min(r, g, b);
    if (chroma === 0) continue; // grey pixels have no hue to rotate
    const s = chroma / max;
    const rc = (max - r) / chroma;
    const gc = (max - g) / chroma;
    const bc = (max - b) / chroma;
    const h6 = max === r ? bc - gc : max === g ? 2 + rc - bc : 4 + gc - rc;
    const h = ((((h6 / 6 + shift) % 1) + 1) % 1) * 6;
    const sector = Math.floor(h) % 6;
    const f = h - Math.floor(h);
    const p = clamp01(max * (1 - s));
    const q = clamp01(max * (1 - s * f));
    const t = clamp01(max * (1 - s * (1 - f)));
    // Written out per sector: this loop runs for every pixel of every training image.
    switch (sector) {
      case 0:
        rgb[i] = max;
        rgb[i + 1] = t;
        rgb[i + 2] = p;
        break;
      case 1:
        rgb[i] = q;
        rgb[i + 1] = max;
        rgb[i + 2] = p;
        break;
      case 2:
        rgb[i] = p;
        rgb[i + 1] = max;
        rgb[i + 2] = t;
        break;
      case 3:
        rgb[i] = p;
        rgb[i + 1] = q;
        rgb[i + 2] = max;
        break;
      case 4:
        rgb[i] = t;
        rgb[i + 1] = p;
        rgb[i + 2] = max;
        break;
      default:
        rgb[i] = max;
        rgb[i + 1] = p;
        rgb[i + 2] = q;
    }
  }
}

/**
 * Applies the four ColorJitter operations in `params.jitterOrder`, in place, to interleaved RGB in [0, 1].
 * Contrast blends towards the mean luma of the whole image, saturation towards each pixel's own luma.
 */
export function colorJitter(rgb: Float32Array, params: AugmentParams): void {
  for (const op of params.jitterOrder) {
    if (op === 'brightness') scaleBrightness(rgb, params.brightness);
    else if (op === 'contrast') scaleContrast(rgb, params.contrast);
    else if (op === 'saturation') scaleSaturation(rgb, params.saturation);
    else shiftHue(rgb, params.hue);
  }
}

/**
 * Augments one decoded image and writes the `cropSize × cropSize × 3` result (HWC, values in [-1, 1])
 * into `out` at `offset`, so that the sampler can fill a batch without copying.
 *
 * @returns `out` (a new array when none is given)
 */
export async function augmentImage(
  image: DecodedImage,
  params: AugmentParams,
  size: AugmentSize,
  out: Float32Array = new Float32Array(size.cropSize * size.cropSize * 3),
  offset = 0,
): Promise<Float32Array> {
  const crop = size.cropSize;
  const pixelCount = crop * crop * 3;
  if (offset < 0 || offset + pixelCount > out.length) {
    throw new RangeError(
      `augmentImage: ${pixelCount} values do not fit in an array of ${out.length} at offset ${offset}.`,
    );
  }
  const geometry = cropGeometry(image.width, image.height, params, size);
  const cropped = await resizeAndCrop(
    image,
    { width: geometry.resizedWidth, height: geometry.resizedHeight },
    { left: geometry.left, top: geometry.top, size: crop },
  );

  const rgb = new Float32Array(pixelCount);
  for (let y = 0; y < crop; y++) {
    for (let x = 0; x < crop; x++) {
      const src = (y * crop + (params.flip ? crop - 1 - x : x)) * 3;
      const dst = (y * crop + x) * 3;
      rgb[dst] = (cropped[src] as number) / 255;
      rgb[dst + 1] = (cropped[src + 1] as number) / 255;
      rgb[dst + 2] = (cropped[src + 2] as number) / 255;
    }
  }
  colorJitter(rgb, params);
  for (let i = 0; i < pixelCount; i++) out[offset + i] = (rgb[i] as number) * 2 - 1;
  return out;
}
