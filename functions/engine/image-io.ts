/**
 * The engine's image input and output through sharp. Input is checked in the order that costs least:
 * empty bytes, then the header (format and pixel count, read by sharp's metadata without decoding any
 * pixel, so a 100-megapixel bomb is refused before it takes memory), then a strict full decode that
 * reveals truncated data behind a valid header. Decoding applies the EXIF orientation, flattens
 * transparency onto white and converts greyscale or CMYK to 8-bit sRGB, the single form the rest of the
 * engine works on.
 */
import { promises as fs } from 'node:fs';

import sharp, { type Metadata } from 'sharp';

import { EngineError } from './engine-error';
import { DECODABLE_IMAGE_FORMATS } from '../core/image-formats';
import { STYLIZE_FORMATS, type StylizeFormat } from '../core/stylize-input';

/** Interleaved 8-bit RGB pixels, row-major (HWC). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Input formats the engine accepts (sharp's names). */
export const INPUT_FORMATS = DECODABLE_IMAGE_FORMATS;
/** Output formats the engine writes: the platform's stylize formats. */
export const OUTPUT_FORMATS = STYLIZE_FORMATS;
export type OutputFormat = StylizeFormat;

/** Limits on an input image, checked from its header. */
export interface ImageLimits {
  /** @default 4096 */
  maxLongSide: number;
  /** @default 16_777_216 (16.7 MP) */
  maxPixels: number;
}

export const DEFAULT_LIMITS: ImageLimits = { maxLongSide: 4096, maxPixels: 4096 * 4096 };

/**
 * Reads, checks and decodes an image given as bytes or a file path.
 *
 * @param what - how messages name the image (`content`, `style 2`)
 * @throws EngineError EMPTY, INVALID_IMAGE, UNSUPPORTED_FORMAT, TOO_LARGE or TRUNCATED
 */
export async function readImage(
  input: Buffer | string,
  what: string,
  limits: ImageLimits = DEFAULT_LIMITS,
): Promise<RgbImage> {
  const label = typeof input === 'string' ? `${what} image ${input}` : `${what} image`;
  let bytes: Buffer;
  if (typeof input === 'string') {
    try {
      bytes = await fs.readFile(input);
    } catch (err) {
      throw new EngineError('INVALID_IMAGE', `Cannot read the ${label}: ${(err as Error).message}.`, { cause: err });
    }
  } else {
    bytes = input;
  }
  if (bytes.byteLength === 0) throw new EngineError('EMPTY', `The ${label} is empty (0 bytes).`);
  let meta: Metadata;
  try {
    // sharp's own pixel limit (268 MP) is switched off for the header read: it throws while reading the
    // header, which made a 30000×30000 bomb "not an image". Nothing is decoded here; the limits below
    // refuse it as TOO_LARGE, and the decode further down only ever sees images within them.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new EngineError('INVALID_IMAGE', `The ${label} is not an image. Expected JPEG, PNG or WebP.`, { cause: err });
  }
  const format = meta.format ?? 'unknown';
  if (!INPUT_FORMATS.includes(format)) {
    throw new EngineError(
      'UNSUPPORTED_FORMAT',
      `The ${label} is ${format.toUpperCase()}; expected one of: JPEG, PNG, WebP.`,
    );
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (Math.max(width, height) > limits.maxLongSide || width * height > limits.maxPixels) {
    throw new EngineError(
      'TOO_LARGE',
      `The ${label} is ${width}×${height}; the limit is ${limits.maxLongSide} px on the long side and ${(limits.maxPixels / 1e6).toFixed(1)} MP.`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning' })
      .rotate() // applies, then drops, the EXIF orientation
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of 3`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    throw new EngineError('TRUNCATED', `The ${label} is damaged or truncated: ${(err as Error).message}.`, {
      cause: err,
    });
  }
}

/** Resamples RGB pixels to exactly `width × height` (aspect may change slightly; callers restore it). */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const { data, info } = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** Encodes RGB pixels as PNG, JPEG or WebP (`quality` 1..100 for the lossy formats). */
export async function encodeImage(image: RgbImage, format: OutputFormat, quality?: number): Promise<Buffer> {
  const pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
  switch (format) {
    case 'png':
      return pipeline.png().toBuffer();
    case 'jpeg':
      return pipeline.jpeg(quality === undefined ? {} : { quality }).toBuffer();
    case 'webp':
      return pipeline.webp(quality === undefined ? {} : { quality }).toBuffer();
  }
}

/**
 * Keeps the luminance of `styled` and the chroma of `content` (full-range BT.601 YCbCr, as JPEG uses),
 * so the output has the style's texture in the content's colours. Both images must share one size.
 */
export function preserveColour(styled: RgbImage, content: RgbImage): RgbImage {
  const out = new Uint8Array(styled.data.length);
  for (let i = 0; i < out.length; i += 3) {
    const y = 0.299 * styled.data[i]! + 0.587 * styled.data[i + 1]! + 0.114 * styled.data[i + 2]!;
    const [r, g, b] = [content.data[i]!, content.data[i + 1]!, content.data[i + 2]!];
    const cb = -0.168736 * r - 0.331264 * g + 0.5 * b;
    const cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
    out[i] = clampByte(y + 1.402 * cr);
    out[i + 1] = clampByte(y - 0.344136 * cb - 0.714136 * cr);
    out[i + 2] = clampByte(y + 1.772 * cb);
  }
  return { data: out, width: styled.width, height: styled.height };
}

function clampByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}
