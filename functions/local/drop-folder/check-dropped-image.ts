/**
 * Decoding a dropped file that passed `inspectDroppedImage` (size, format and dimensions, all read
 * without decoding), before any job is queued. The decode is the engine's own image reader, so a file
 * whose header is fine but whose pixels are not (a truncated upload) is refused with the code
 * `peerstyle stylize` and a failed API job give the same bytes (TRUNCATED, or EMPTY, INVALID_IMAGE,
 * UNSUPPORTED_FORMAT, TOO_LARGE from the engine's own header check).
 */

import { EngineError } from '../../engine/engine-error';
import { readImage } from '../../engine/image-io';

/** Why a dropped file was refused: an image error code and its message. */
export interface DropRefusal {
  code: 'EMPTY' | 'INVALID_IMAGE' | 'UNSUPPORTED_FORMAT' | 'TOO_LARGE' | 'TRUNCATED';
  message: string;
}

/** Returns why `bytes` cannot be stylized, or null when they can. Call only on inspected bytes. */
export async function whyNotAnImage(bytes: Uint8Array): Promise<DropRefusal | null> {
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
