/**
 * `blobImageSource`: an object in the uploads bucket as the source `inspectDroppedImage` reads. Its
 * size comes from a HEAD; its first bytes from a ranged read that stops early, so checking a large
 * object transfers only its header.
 */

import type { BlobStore } from '../../core';
import type { DroppedImageSource } from '../../core/use-cases';

async function readStart(blobs: BlobStore, key: string, limit: number): Promise<Uint8Array> {
  if (limit === 0) return new Uint8Array(0);
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

/** The object `key` of `blobs`, read only as far as asked. */
export function blobImageSource(blobs: BlobStore, key: string): DroppedImageSource {
  return {
    size: async () => (await blobs.head(key))?.size ?? null,
    readStart: (length) => readStart(blobs, key, length),
  };
}
