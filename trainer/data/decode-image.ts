/**
 * Decodes one image file into 8-bit RGB pixels, the single form every later stage of the data pipeline
 * works on, and resamples such pixels for augmentation. This is the pipeline's only user of sharp, and
 * the only place that reads image files, so every oddity of real-world input is settled here once: EXIF
 * orientation is applied (phone photos are often stored sideways), transparency is flattened onto white,
 * and greyscale or CMYK sources are converted to sRGB.
 */
import sharp from 'sharp';
import { DataError } from './errors';

/** Interleaved 8-bit RGB pixels, row-major (HWC), `data.length === width * height * 3`. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /**
   * When set, images whose shorter side exceeds this are shrunk (Lanczos) so that it equals this; smaller
   * images are left alone. The sampler uses it to keep its cache small: augmentation never needs more
   * than `loadSize × 1.1` pixels on the shorter side.
   * @default undefined (full resolution)
   */
  maxShorterSide?: number;
}

/**
 * Reads and fully decodes `file` to 3-channel sRGB.
 *
 * sharp's default `failOn: 'warning'` is kept on purpose: a truncated JPEG has a valid header, so only a
 * full decode at this strictness reveals it.
 *
 * @throws DataError `UNREADABLE_IMAGE` when the file is missing, not an image, or its pixels are damaged.
 */
export async function decodeImage(file: string, options: DecodeOptions = {}): Promise<DecodedImage> {
  try {
    let pipeline = sharp(file)
      .rotate() // applies, then drops, the EXIF orientation
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb');
    if (options.maxShorterSide !== undefined) {
      const side = options.maxShorterSide;
      // 'outside' with equal width and height bounds sets the shorter side to `side`.
      pipeline = pipeline.resize(side, side, { fit: 'outside', withoutEnlargement: true, kernel: 'lanczos3' });
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels instead of 3`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(
      'UNREADABLE_IMAGE',
      `Cannot decode image ${file}: ${reason}. Expected a readable JPEG, PNG or WebP file.`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Resizes RGB pixels to `width × height` with the bicubic (Catmull-Rom) kernel, as the reference's
 * PIL `BICUBIC` resize, then cuts out the `crop × crop` square at (`left`, `top`) of the resized image.
 */
export async function resizeAndCrop(
  image: DecodedImage,
  resize: { width: number; height: number },
  crop: { left: number; top: number; size: number },
): Promise<Uint8Array> {
  const input = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  // extract() after resize() crops the resized image (sharp applies them in call order).
  const out = await sharp(input, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(resize.width, resize.height, { fit: 'fill', kernel: 'cubic' })
    .extract({ left: crop.left, top: crop.top, width: crop.size, height: crop.size })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
