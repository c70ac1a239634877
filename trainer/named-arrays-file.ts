/**
 * Named float32 arrays packed into one binary: the arrays back to back (float32, little-endian, in the
 * order given), an index of where each lies, and the binary's sha256. Weights files and checkpoints
 * both store their arrays this way; each keeps the index and checksum in its own JSON.
 */
import { createHash } from 'node:crypto';
import type { NamedArray } from './nn/params';

/** Where one array lies in the binary: `length` values starting at byte `offset`. */
export interface ArrayEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export interface PackedArrays {
  index: ArrayEntry[];
  bin: Buffer;
  /** Hex sha256 of `bin`. */
  sha256: string;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Packs the arrays, in their key order, into one binary with its index and checksum. */
export function packArrays(arrays: Readonly<Record<string, NamedArray>>): PackedArrays {
  const index: ArrayEntry[] = [];
  const parts: { data: Float32Array; offset: number }[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    index.push({ name, shape: a.shape, offset, length: a.data.length });
    parts.push({ data: a.data, offset });
    offset += a.data.length * 4;
  }
  const bin = Buffer.alloc(offset);
  for (const { data: d, offset: at } of parts) {
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(bin, at);
  }
  return { index, bin, sha256: sha256Hex(bin) };
}

/**
 * The arrays the index names, copied out of `bin`; null when `bin` does not match `sha256` (a damaged
 * or half-written file), so that the caller reports it in its own terms.
 */
export function unpackArrays(
  bin: Uint8Array,
  index: readonly ArrayEntry[],
  sha256: string,
): Record<string, NamedArray> | null {
  if (sha256Hex(bin) !== sha256) return null;
  const arrays: Record<string, NamedArray> = {};
  for (const e of index) {
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(bin.subarray(e.offset, e.offset + e.length * 4));
    arrays[e.name] = { shape: e.shape, data };
  }
  return arrays;
}
