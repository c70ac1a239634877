/**
 * The pixel form every evaluation metric works on, and the few raster operations the evaluation needs:
 * loading a file at metric size, decoding an encoded image (the engine returns PNG bytes), and resizing.
 * Files are decoded by the data pipeline's decoder, so EXIF orientation, transparency and CMYK are
 * settled exactly as in training; this module only adds the metric-size bound on top.
 */
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '../../trainer/data/decode-image';

/** Interleaved 8-bit sRGB pixels, row-major, `data.length === width * height * 3`. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * The long side every image is brought down to before any metric sees it: large enough for texture
 * statistics, small enough that the plain-TypeScript texture network stays fast on a CPU.
 */
export const METRIC_MAX_SIDE = 256;

/** Wraps raw RGB pixels for sharp without copying them. */
function rawInput(image: RgbImage): Sharp {
  const buffer = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return sharp(buffer, { raw: { width: image.width, height: image.height, channels: 3 } });
}

async function toRgbImage(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/**
 * Resizes `image` to exactly `width × height` (aspect ratio not kept), with the Lanczos kernel.
 * Returns the input itself when the size already matches, so "no resize" costs nothing and changes nothing.
 */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  return toRgbImage(rawInput(image).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }));
}

/** Shrinks `image` so that its long side is at most `maxSide`; smaller images are returned unchanged. */
export async function fitInside(image: RgbImage, maxSide: number): Promise<RgbImage> {
  const long = Math.max(image.width, image.height);
  if (long <= maxSide) return image;
  const scale = maxSide / long;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return resizeRgb(image, width, height);
}

/**
 * Resizes `image` so that its long side is exactly `longSide`, up or down, aspect kept; with the
 * engine's rounding (functions/engine `size`), so that an output asked for at `longSide` has this size.
 */
export async function resizeLongSide(image: RgbImage, longSide: number): Promise<RgbImage> {
  const scale = longSide / Math.max(image.width, image.height);
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return resizeRgb(image, width, height);
}

/**
 * Decodes an image file at the size it is scored at: its long side set to `longSide` when given,
 * otherwise its own size.
 */
export async function loadImageAt(file: string, longSide: number | undefined): Promise<RgbImage> {
  const image = await decodeImage(file);
  return longSide === undefined ? image : resizeLongSide(image, longSide);
}

/** Decodes an image file and brings its long side down to `maxSide` (default {@link METRIC_MAX_SIDE}). */
export async function loadImage(file: string, maxSide: number = METRIC_MAX_SIDE): Promise<RgbImage> {
  return fitInside(await decodeImage(file), maxSide);
}

/** Decodes encoded image bytes (PNG, JPEG, WebP) to RGB, flattening any transparency onto white. */
export async function decodeImageBytes(bytes: Uint8Array): Promise<RgbImage> {
  return toRgbImage(
    sharp(bytes)
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } }),
  );
}

/** Encodes RGB pixels as PNG. */
export async function encodePng(image: RgbImage): Promise<Buffer> {
  return rawInput(image).png().toBuffer();
}
