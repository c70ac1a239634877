/**
 * `fileImageSource`: a file in the drop folder as the source `inspectDroppedImage` reads. Its size comes
 * from a stat, and reads take only the bytes asked for, so a file far over the size limit (even one
 * larger than a Node buffer may be) is judged without reading any of it.
 */

import { promises as fs } from 'node:fs';
import type { DroppedImageSource } from '../../core/use-cases';

async function readStart(file: string, length: number): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, filled);
      if (bytesRead === 0) break; // the file is shorter than asked
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** The file at `file`, read only as far as asked. */
export function fileImageSource(file: string): DroppedImageSource {
  return {
    size: async () => {
      const stat = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      return stat?.size ?? null;
    },
    readStart: (length) => readStart(file, length),
  };
}
