/**
 * The rules for blob keys, shared by every blob store.
 *
 * Keys reach the stores from clients (upload targets), from the drop folder (file names) and from job
 * inputs, so they are untrusted. A filesystem store would let `../` climb out of its root, and an S3
 * store would happily create objects whose keys later confuse a sync to disk; rejecting the same keys
 * everywhere keeps the stores interchangeable and lets one contract suite test them all.
 */

import { DomainError, ErrorCode } from './errors';

/** Longest key accepted, in UTF-8 bytes (S3's own limit). */
export const MAX_BLOB_KEY_BYTES = 1024;

function reject(key: string, why: string): DomainError {
  return new DomainError(
    ErrorCode.BAD_REQUEST,
    `Invalid blob key ${JSON.stringify(key)}: ${why}. ` +
      'Keys are relative paths of "/"-separated segments, e.g. "drop/user-1/photo.jpg".',
    { field: 'key' },
  );
}

/** Decodes percent-escapes repeatedly, so that "%252e%252e" is seen as "..", stopping at malformed input. */
function decodedForms(key: string): string[] {
  const forms = [key];
  let current = key;
  for (let i = 0; i < 3 && current.includes('%'); i += 1) {
    try {
      const next = decodeURIComponent(current);
      if (next === current) break;
      forms.push(next);
      current = next;
    } catch {
      break;
    }
  }
  return forms;
}

function checkPath(original: string, path: string, allowTrailingSlash: boolean): void {
  // Control characters include NUL, which truncates paths in C-level file APIs.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw reject(original, 'it contains a control character');
  if (path.includes('\\')) throw reject(original, 'it contains a backslash');
  if (path.startsWith('/')) throw reject(original, 'it is an absolute path');
  if (/^[A-Za-z]:/.test(path)) throw reject(original, 'it starts with a drive letter');
  const segments = path.split('/');
  if (allowTrailingSlash && segments[segments.length - 1] === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') throw reject(original, 'it has an empty segment');
    if (segment === '.' || segment === '..') throw reject(original, `it has a "${segment}" segment`);
  }
}

/**
 * Throws BAD_REQUEST unless `key` is a safe object key: non-empty, at most 1024 bytes, no control
 * characters, backslashes, absolute or drive paths, empty, "." or ".." segments, either as written or
 * after percent-decoding.
 */
export function assertBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw reject(String(key), 'it is empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_BLOB_KEY_BYTES) {
    throw reject(key.slice(0, 40), `it is longer than ${MAX_BLOB_KEY_BYTES} bytes`);
  }
  for (const form of decodedForms(key)) checkPath(key, form, false);
}

/**
 * Throws BAD_REQUEST unless `prefix` is usable for listing: empty (everything), or built like a key and
 * optionally ending in "/".
 */
export function assertBlobPrefix(prefix: string): void {
  if (prefix === '') return;
  if (Buffer.byteLength(prefix, 'utf8') > MAX_BLOB_KEY_BYTES) {
    throw reject(prefix.slice(0, 40), `it is longer than ${MAX_BLOB_KEY_BYTES} bytes`);
  }
  for (const form of decodedForms(prefix)) checkPath(prefix, form, true);
}
