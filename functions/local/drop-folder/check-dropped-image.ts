/**
 * Deciding whether a dropped file is worth a stylize job, before any job is queued: small enough, and
 * an image sharp can decode in a format the engine reads. Checking the bytes, not the file name,
 * catches a text file renamed to .jpg as well as a truncated upload.
 */

import sharp from 'sharp';

/** Formats the engine reads. */
export const DROP_FORMATS = ['jpeg', 'png', 'webp'] as const;

/** Returns why `bytes` cannot be stylized, or null when they can. */
export async function whyNotAnImage(bytes: Uint8Array, maxBytes: number): Promise<string | null> {
  if (bytes.byteLength > maxBytes) {
    return `The file is ${bytes.byteLength} bytes; the drop folder accepts at most ${maxBytes} bytes.`;
  }
  try {
    const meta = await sharp(bytes).metadata();
    if (meta.format === undefined || !(DROP_FORMATS as readonly string[]).includes(meta.format)) {
      return `The file is ${meta.format ?? 'of an unknown format'}; expected one of: ${DROP_FORMATS.join(', ')}.`;
    }
    // Decoding the pixels (not just the header) catches files cut off in the middle.
    await sharp(bytes).stats();
    return null;
  } catch (error) {
    return `The file is not a readable image (${error instanceof Error ? error.message : String(error)}); expected one of: ${DROP_FORMATS.join(', ')}.`;
  }
}
