/**
 * `detectImageType`: recognises the image formats the platform decodes from their first bytes.
 *
 * A client's declared content type is only a claim; the magic bytes are what a decoder will see. The
 * upload endpoint checks them before storing anything, so a text file labelled image/png never becomes
 * a job input.
 */

/** Content types `detectImageType` can return. */
export type DetectedImageType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif';

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((byte, index) => bytes[offset + index] === byte);

/** The format `bytes` begin with, or null when they are not a JPEG, PNG, WebP or GIF. */
export function detectImageType(bytes: Uint8Array): DetectedImageType | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  // "RIFF" <size> "WEBP"
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return 'image/webp';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  return null;
}
