/**
 * Where an owner's uploads live, and the check that an upload key a client sends is one of theirs.
 *
 * The server chooses every upload key (`uploads/<owner>/[<group>/]<uuid>`), so a client cannot place
 * a file anywhere else; a key sent back later is accepted only if it has that owner's prefix, passes
 * the blob-key rules (no "..", no absolute paths, however encoded) and names an image that exists.
 */

import { createHash } from 'node:crypto';
import { assertBlobKey } from '../blob-key';
import { BLOB_PREFIXES } from '../blob-prefixes';
import { DomainError, ErrorCode } from '../errors';
import type { BlobInfo, BlobStore } from '../ports/blob-store';

const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** The form of the hashed segments of earlier releases: `h-` and 32 hex digits (a valid owner name). */
const LEGACY_HASHED_SEGMENT = /^h-[0-9a-f]{32}$/;

/**
 * The key segment for an owner, injective in the owner id: a plain word that does not begin with
 * "h-" is used as it is (so existing data folders of plain-named owners keep their uploads);
 * everything else, including every name beginning with "h-", becomes `h-` and the full SHA-256 of the
 * name. No name can forge another's segment: plain segments never begin with "h-", and hashed ones
 * collide only if SHA-256 does. (Before, "bob smith" mapped to `h-<32 hex>`, itself a plain name.)
 */
export function ownerSegment(owner: string): string {
  if (SAFE_SEGMENT.test(owner) && !owner.startsWith('h-')) return owner;
  return `h-${createHash('sha256').update(owner, 'utf8').digest('hex')}`;
}

/**
 * Refuses, with a message that says why, a key or prefix in the short-hash area the old encoding
 * made; such uploads are not migrated, since that area may be shared by two owners.
 */
export function refuseLegacyArea(keyOrPrefix: string, field: string): void {
  const segment = keyOrPrefix.split('/')[1] ?? '';
  if (keyOrPrefix.startsWith(BLOB_PREFIXES.uploads) && LEGACY_HASHED_SEGMENT.test(segment)) {
    throw new DomainError(
      ErrorCode.NOT_FOUND,
      `${field}: ${JSON.stringify(keyOrPrefix)} is in an upload area of the old short-hash form (${BLOB_PREFIXES.uploads}h-<32 hex>/), ` +
        'which two owners could share and is no longer served; upload the file again.',
      { field, legacyOwnerArea: true },
    );
  }
}

/** The prefix, ending in "/", under which `owner`'s uploads are stored. */
export function uploadPrefixFor(owner: string): string {
  return `${BLOB_PREFIXES.uploads}${ownerSegment(owner)}/`;
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
  refuseLegacyArea(key, field);
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
