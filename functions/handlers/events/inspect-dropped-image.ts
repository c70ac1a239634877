/**
 * Checking a dropped object before any GPU time is spent on it: its size from a HEAD, its format from
 * the magic bytes, and its pixel dimensions from the image header.
 *
 * Only as much of the object is read as the checks need. Small objects are read whole; for larger ones
 * the first `headerBytes` are streamed and the stream abandoned, since every format the engine reads
 * keeps its dimensions near the start (PNG's IHDR at byte 16, WebP's VP8 header at byte 26, a JPEG's
 * SOF marker after its EXIF block). Only when a large JPEG hides its SOF behind a huge EXIF block is the
 * whole object read. Nothing is decoded (see `image-header.ts`), so a bomb of a billion declared pixels
 * costs a few kilobytes.
 */

import type { BlobStore } from '../../core';
import { detectImageType, type DetectedImageType } from '../../core/use-cases';
import { readImageSize, type ImageSize } from './image-header';

/** How large a dropped image may be. */
export interface DropImageLimits {
  /** Largest object, in bytes. */
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

/** Formats the engine decodes; GIF is recognised only to be refused by name. */
export const DROP_CONTENT_TYPES: readonly DetectedImageType[] = ['image/jpeg', 'image/png', 'image/webp'];

/** Objects up to this size are read whole; larger ones start with a header read. */
export const WHOLE_READ_BYTES = 256 * 1024;
/** How much of a large object the header read takes. */
export const HEADER_BYTES = 64 * 1024;

/**
 * Why an object is refused, with the code the engine gives the same bytes (so a dropped file, an API job
 * and `peerstyle stylize` agree). TRUNCATED pixel data is found only by decoding, which the worker does.
 */
export type DropImageCode = 'EMPTY' | 'INVALID_IMAGE' | 'UNSUPPORTED_FORMAT' | 'TOO_LARGE';

/** The verdict on one object. */
export type ImageInspection =
  | { ok: true; contentType: DetectedImageType; size: number; width: number; height: number }
  | { ok: false; code: DropImageCode; reason: string }
  | { ok: 'gone' };

async function readPrefix(blobs: BlobStore, key: string, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of await blobs.getStream(key)) {
    chunks.push(chunk);
    length += chunk.byteLength;
    // Leaving the loop ends the iteration, which closes the HTTP body: the rest is never transferred.
    if (length >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** Inspects `key`; `{ ok: 'gone' }` when it was deleted before it could be read. */
export async function inspectDroppedImage(
  blobs: BlobStore,
  key: string,
  limits: DropImageLimits = DEFAULT_DROP_LIMITS,
): Promise<ImageInspection> {
  const info = await blobs.head(key);
  if (info === null) return { ok: 'gone' };
  if (info.size === 0) return { ok: false, code: 'EMPTY', reason: 'The file is empty.' };
  if (info.size > limits.maxBytes) {
    return {
      ok: false,
      code: 'TOO_LARGE',
      reason: `The file is ${info.size} bytes; the drop folder accepts at most ${limits.maxBytes} bytes.`,
    };
  }
  const small = info.size <= WHOLE_READ_BYTES;
  let bytes = await readPrefix(blobs, key, small ? info.size : HEADER_BYTES);
  const contentType = detectImageType(bytes);
  if (contentType === null || !DROP_CONTENT_TYPES.includes(contentType)) {
    const found = contentType === null ? 'not an image' : `${contentType}`;
    return {
      ok: false,
      code: contentType === null ? 'INVALID_IMAGE' : 'UNSUPPORTED_FORMAT',
      reason: `The file is ${found}; expected one of: ${DROP_CONTENT_TYPES.join(', ')}.`,
    };
  }
  const type = contentType as 'image/jpeg' | 'image/png' | 'image/webp';
  let size: ImageSize | null = readImageSize(bytes, type);
  if (size === null && !small) {
    bytes = await blobs.get(key);
    size = readImageSize(bytes, type);
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
  return { ok: true, contentType, size: info.size, width, height };
}
