/**
 * `inspectDroppedImage`: the one check a dropped file passes before any job is made for it, shared by
 * the local drop folder and the AWS intake function. It looks, in this order, at the size (from a stat
 * or an S3 HEAD, before a single byte is read), the format (magic bytes) and the pixel dimensions (the
 * image header), so an oversized file or a pixel bomb is refused at the cost of a few kilobytes.
 *
 * Only as much of the file is read as the checks need. Small files are read whole; for larger ones the
 * first `HEADER_BYTES` are read, since every format the engine reads keeps its dimensions near the
 * start (PNG's IHDR at byte 16, WebP's VP8 header at byte 26, a JPEG's SOF marker after its EXIF block).
 * Only when a large JPEG hides its SOF behind a huge EXIF block is the whole file read, and by then its
 * size is known to be within the limit. Nothing is decoded (see `image-header.ts`); decoding the pixels
 * is left to the caller, once the file has passed.
 */

import { readImageSize, type ImageSize } from './image-header';
import { detectImageType } from './image-signature';
import { DECODABLE_IMAGE_TYPES, isDecodableImageType, type DecodableImageType } from '../image-formats';

/** Where the bytes of a dropped file come from: a local file, an S3 object. */
export interface DroppedImageSource {
  /** The size in bytes from metadata alone (a stat, a HEAD), or null when the file is gone. */
  size(): Promise<number | null>;
  /** The first `length` bytes, or all of them when the file is shorter. */
  readStart(length: number): Promise<Uint8Array>;
}

/** How large a dropped image may be. */
export interface DropImageLimits {
  /** Largest file, in bytes. */
  maxBytes: number;
  /** Longest side, in pixels. */
  maxLongSide: number;
  /** Most pixels (width × height). */
  maxPixels: number;
}

/**
 * The defaults equal the stylize engine's own input limits, so the drop folder never queues an image
 * the worker would refuse after waiting for a GPU.
 */
export const DEFAULT_DROP_LIMITS: DropImageLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxLongSide: 4096,
  maxPixels: 4096 * 4096,
};

/** Files up to this size are read whole; larger ones start with a header read. */
export const WHOLE_READ_BYTES = 256 * 1024;
/** How much of a large file the header read takes. */
export const HEADER_BYTES = 64 * 1024;

/**
 * Why a file is refused, with the code the engine gives the same bytes (so a dropped file, an API job
 * and `peerstyle stylize` agree). TRUNCATED pixel data is found only by decoding, which comes later.
 */
export type DropImageCode = 'EMPTY' | 'INVALID_IMAGE' | 'UNSUPPORTED_FORMAT' | 'TOO_LARGE';

/** The verdict on one file. */
export type ImageInspection =
  | { ok: true; contentType: DecodableImageType; size: number; width: number; height: number }
  | { ok: false; code: DropImageCode; reason: string }
  | { ok: 'gone' };

/** Inspects the file `source` reads; `{ ok: 'gone' }` when it was deleted before it could be read. */
export async function inspectDroppedImage(
  source: DroppedImageSource,
  limits: DropImageLimits = DEFAULT_DROP_LIMITS,
): Promise<ImageInspection> {
  const fileSize = await source.size();
  if (fileSize === null) return { ok: 'gone' };
  if (fileSize === 0) return { ok: false, code: 'EMPTY', reason: 'The file is empty.' };
  if (fileSize > limits.maxBytes) {
    return {
      ok: false,
      code: 'TOO_LARGE',
      reason: `The file is ${fileSize} bytes; the drop folder accepts at most ${limits.maxBytes} bytes.`,
    };
  }
  const small = fileSize <= WHOLE_READ_BYTES;
  let bytes = await source.readStart(small ? fileSize : HEADER_BYTES);
  const contentType = detectImageType(bytes);
  if (!isDecodableImageType(contentType)) {
    const found = contentType === null ? 'not an image' : `${contentType}`;
    return {
      ok: false,
      code: contentType === null ? 'INVALID_IMAGE' : 'UNSUPPORTED_FORMAT',
      reason: `The file is ${found}; expected one of: ${DECODABLE_IMAGE_TYPES.join(', ')}.`,
    };
  }
  let size: ImageSize | null = readImageSize(bytes, contentType);
  if (size === null && !small) {
    bytes = await source.readStart(fileSize);
    size = readImageSize(bytes, contentType);
  }
  if (size === null) {
    return {
      ok: false,
      code: 'INVALID_IMAGE',
      reason: `The file starts like ${contentType} but its header cannot be read; it may be damaged.`,
    };
  }
  const { width, height } = size;
  if (Math.max(width, height) > limits.maxLongSide || width * height > limits.maxPixels) {
    return {
      ok: false,
      code: 'TOO_LARGE',
      reason: `The image is ${width}×${height} pixels; the drop folder accepts at most ${limits.maxLongSide} pixels on the longest side and ${limits.maxPixels} pixels in all.`,
    };
  }
  return { ok: true, contentType, size: fileSize, width, height };
}
