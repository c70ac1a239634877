/**
 * Where an owner's uploads live, and the check that an upload key a client sends is one of theirs.
 *
 * The server chooses every upload key (`uploads/<owner>/[<group>/]<uuid>`), so a client cannot place
 * a file anywhere else; a key sent back later is accepted only if it has that owner's prefix, passes
 * the blob-key rules (no "..", no absolute paths, however encoded) and names an image that exists.
 */

import { createHash } from 'node:crypto';
import { assertBlobKey } from '../blob-key';
import { DomainError, ErrorCode } from '../errors';
import type { BlobInfo, BlobStore } from '../ports/blob-store';

/** Top-level prefix of every upload. */
export const UPLOADS_ROOT = 'uploads';

const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The key segment for an owner: the owner id itself when it is a plain word, otherwise a hash of it,
 * so that no owner id (with "/", "%" or "..") can shape the path.
 */
export function ownerSegment(owner: string): string {
  if (SAFE_SEGMENT.test(owner)) return owner;
  return `h-${createHash('sha256').update(owner, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The prefix, ending in "/", under which `owner`'s uploads are stored. */
export function uploadPrefixFor(owner: string): string {
  return `${UPLOADS_ROOT}/${ownerSegment(owner)}/`;
}

/** Checks a client's upload group ("set-1" or "set-1/content") and returns it. */
export function parseUploadGroup(group: string): string {
  const segments = group.split('/');
  if (segments.length > 3 || !segments.every((segment) => SAFE_SEGMENT.test(segment))) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `Invalid upload group ${JSON.stringify(group)}: use 1..3 "/"-separated segments of letters, digits, "-" and "_".`,
      { field: 'group' },
    );
  }
  return group;
}

/** Checks that `key` lies in the owner's upload area; NOT_FOUND otherwise, so others' keys are not probed. */
export function assertOwnUploadKey(owner: string, key: string, field: string): void {
  try {
    assertBlobKey(key);
  } catch (error) {
    if (error instanceof DomainError) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `${field}: ${error.message}`, { field });
    }
    throw error;
  }
  if (!key.startsWith(uploadPrefixFor(owner))) {
    throw new DomainError(ErrorCode.NOT_FOUND, `${field}: no upload with key ${JSON.stringify(key)}.`, { field });
  }
}

/** Resolves an upload key the owner sent to the stored image, or throws NOT_FOUND / UNSUPPORTED_FORMAT. */
export async function requireOwnImage(blobs: BlobStore, owner: string, key: string, field: string): Promise<BlobInfo> {
  assertOwnUploadKey(owner, key, field);
  const info = await blobs.head(key);
  if (info === null) {
    throw new DomainError(
      ErrorCode.NOT_FOUND,
      `${field}: no upload with key ${JSON.stringify(key)}; POST the file to its upload target first.`,
      { field },
    );
  }
  if (info.contentType !== undefined && !info.contentType.toLowerCase().startsWith('image/')) {
    throw new DomainError(ErrorCode.UNSUPPORTED_FORMAT, `${field}: ${key} is ${info.contentType}, not an image.`, {
      field,
    });
  }
  return info;
}
