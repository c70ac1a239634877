/**
 * Pixel dimensions of a JPEG, PNG or WebP from the first bytes of the file, in plain TypeScript.
 *
 * The drop-folder intake (local and on AWS) needs only the header, and on AWS it runs as an esbuild
 * bundle on Lambda, where a native image library's platform binary is not part of the bundle; reading
 * the few header fields directly needs nothing but the bytes, and decodes no pixel. Dimensions are as stored: an EXIF rotation swaps width and
 * height but changes neither the longest side nor the pixel count, which is all the limits look at.
 */

import type { DecodableImageType } from '../image-formats';

/** Width and height in pixels. */
export interface ImageSize {
  width: number;
  height: number;
}

const ascii = (bytes: Uint8Array, offset: number, text: string): boolean =>
  bytes.length >= offset + text.length && [...text].every((char, i) => bytes[offset + i] === char.charCodeAt(0));

/** The byte at offset `o`; each reader checks the length before reading, so a byte past the end is a bug here. */
function byteAt(b: Uint8Array, o: number): number {
  const byte = b[o];
  if (byte === undefined) throw new RangeError(`Image header read at byte ${o} of ${b.length}.`);
  return byte;
}

const be16 = (b: Uint8Array, o: number): number => (byteAt(b, o) << 8) | byteAt(b, o + 1);
const le16 = (b: Uint8Array, o: number): number => byteAt(b, o) | (byteAt(b, o + 1) << 8);
const le24 = (b: Uint8Array, o: number): number => le16(b, o) | (byteAt(b, o + 2) << 16);
const be32 = (b: Uint8Array, o: number): number =>
  ((byteAt(b, o) << 24) >>> 0) + ((byteAt(b, o + 1) << 16) | be16(b, o + 2));

function pngSize(b: Uint8Array): ImageSize | null {
  // Signature (8), IHDR length (4), "IHDR" (4), then width and height, big-endian.
  if (b.length < 24 || !ascii(b, 12, 'IHDR')) return null;
  return { width: be32(b, 16), height: be32(b, 20) };
}

function webpSize(b: Uint8Array): ImageSize | null {
  if (b.length < 30) return null;
  if (ascii(b, 12, 'VP8 ')) {
    // Lossy: a key frame's start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { width: le16(b, 26) & 0x3fff, height: le16(b, 28) & 0x3fff };
  }
  if (ascii(b, 12, 'VP8L')) {
    // Lossless: signature 0x2f, then width-1 and height-1 in 14 bits each.
    if (b[20] !== 0x2f) return null;
    const bits = le24(b, 21) | (byteAt(b, 24) << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(b, 12, 'VP8X')) {
    // Extended: 24-bit width-1 and height-1 after the flags.
    return { width: le24(b, 24) + 1, height: le24(b, 27) + 1 };
  }
  return null;
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not frames. */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegSize(b: Uint8Array): ImageSize | null {
  let p = 2;
  while (p + 9 <= b.length) {
    if (b[p] !== 0xff) return null; // not at a marker: the stream is damaged
    const marker = byteAt(b, p + 1);
    if (marker === 0xff) {
      p += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM, RST0..7, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      p += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // image end or scan data before any frame
    if (SOF.has(marker)) return { width: be16(b, p + 7), height: be16(b, p + 5) };
    p += 2 + be16(b, p + 2);
  }
  return null; // the frame header lies beyond the bytes given
}

/**
 * The dimensions in `bytes` (a whole file or its start), or null when the header is not there: the
 * bytes are damaged, or, for a JPEG with a large metadata block, the frame header comes later.
 */
export function readImageSize(bytes: Uint8Array, contentType: DecodableImageType): ImageSize | null {
  const size =
    contentType === 'image/png' ? pngSize(bytes) : contentType === 'image/webp' ? webpSize(bytes) : jpegSize(bytes);
  return size !== null && size.width > 0 && size.height > 0 ? size : null;
}
