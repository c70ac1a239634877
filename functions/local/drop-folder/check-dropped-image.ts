/**
 * Deciding whether a dropped file is worth a stylize job, before any job is queued: small enough, and
 * an image the engine can decode. The check is the engine's own image reader (header limits, then a
 * strict decode), so a dropped file is refused with the code `peerstyle stylize` and a failed API job
 * give the same bytes (EMPTY, INVALID_IMAGE, UNSUPPORTED_FORMAT, TOO_LARGE, TRUNCATED). Checking the
 * bytes, not the file name, catches a text file renamed to .jpg as well as a truncated upload.
 */

import { EngineError } from '../../engine/engine-error';
import { readImage } from '../../engine/image-io';

/** Why a dropped file was refused: an image error code and its message. */
export interface DropRefusal {
  code: 'EMPTY' | 'INVALID_IMAGE' | 'UNSUPPORTED_FORMAT' | 'TOO_LARGE' | 'TRUNCATED';
  message: string;
}

/** Returns why `bytes` cannot be stylized, or null when they can. */
export async function whyNotAnImage(bytes: Uint8Array, maxBytes: number): Promise<DropRefusal | null> {
  if (bytes.byteLength > maxBytes) {
    return {
      code: 'TOO_LARGE',
      message: `The file is ${bytes.byteLength} bytes; the drop folder accepts at most ${maxBytes} bytes.`,
    };
  }
  try {
    await readImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'dropped');
    return null;
  } catch (error) {
    if (error instanceof EngineError && error.code !== 'CANCELLED' && error.code !== 'BAD_OPTION') {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
}
