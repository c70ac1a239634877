/**
 * `createUpload`: hands a client a short-lived, signed form to upload one image straight to storage.
 *
 * The server picks the key, so the client cannot choose where the bytes land; the signed policy carries
 * the size limit and the image/* content-type condition, which storage (S3, or the local upload
 * endpoint) enforces on the actual bytes. Checking the declared size and type here as well answers a
 * client that is bound to fail right away, with the limit in the message.
 */

import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode } from '../errors';
import type { UseCaseDeps } from './deps';
import { parseUploadGroup, uploadPrefixFor } from './uploads';

/** What the client declares about the file it is about to upload. */
export interface CreateUploadInput {
  contentType: string;
  byteSize: number;
  /** Optional sub-prefix, e.g. a dataset name. */
  group?: string | null;
}

/** An upload target plus the key the file will have. */
export interface CreatedUpload {
  url: string;
  fields: Record<string, string>;
  key: string;
  expiresAt: string;
}

const IMAGE_TYPE = /^image\/[A-Za-z0-9.+-]+$/;

/** Creates an upload target under the owner's upload prefix. */
export async function createUpload(
  deps: Pick<UseCaseDeps, 'blobs' | 'limits'>,
  owner: string,
  input: CreateUploadInput,
): Promise<CreatedUpload> {
  if (!IMAGE_TYPE.test(input.contentType)) {
    throw new DomainError(
      ErrorCode.UNSUPPORTED_FORMAT,
      `Content type ${JSON.stringify(input.contentType)} is not accepted; expected image/* (e.g. image/jpeg, image/png, image/webp).`,
      { field: 'contentType' },
    );
  }
  const max = deps.limits.maxUploadBytes;
  if (input.byteSize === 0) {
    throw new DomainError(ErrorCode.EMPTY, 'byteSize is 0: an empty file is not an image.', { field: 'byteSize' });
  }
  if (!Number.isInteger(input.byteSize) || input.byteSize < 1) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `byteSize must be a positive integer, got ${input.byteSize}.`, {
      field: 'byteSize',
    });
  }
  if (input.byteSize > max) {
    throw new DomainError(ErrorCode.TOO_LARGE, `byteSize ${input.byteSize} exceeds the upload limit of ${max} bytes.`, {
      field: 'byteSize',
      maxBytes: max,
    });
  }
  const group = input.group === undefined || input.group === null ? '' : `${parseUploadGroup(input.group)}/`;
  const key = `${uploadPrefixFor(owner)}${group}${randomUUID()}`;
  const target = await deps.blobs.createUploadTarget({
    key,
    contentTypePrefix: 'image/',
    // The signed limit is the declared size: a client cannot declare a small file and send a big one.
    maxBytes: input.byteSize,
    expiresInSeconds: deps.limits.uploadTtlSeconds,
  });
  return { url: target.url, fields: target.fields, key, expiresAt: target.expiresAt };
}
