/**
 * Copies of uploads that a style or a job relies on, kept where no upload form can write.
 *
 * An upload form (an S3 presigned POST, or the local server's equivalent) can be posted again and
 * again until it expires, each time replacing the object under its key; uploads also expire after a
 * few days. So registering a style or submitting a job first copies each upload it uses to a key no
 * form is ever issued for, and refers to the copy: styles under `saved-styles/` (never expired),
 * job inputs under `job-inputs/` (expired like uploads, by which time the job has run).
 */

import { createHash, randomUUID } from 'node:crypto';
import { BLOB_PREFIXES } from '../blob-prefixes';
import type { BlobStore } from '../ports/blob-store';
import { ownerSegment } from './uploads';

/** Copies an upload for a new style; returns the copy's key. */
export async function saveStyleImage(blobs: BlobStore, owner: string, uploadKey: string): Promise<string> {
  const key = `${BLOB_PREFIXES.savedStyles}${ownerSegment(owner)}/${randomUUID()}`;
  await blobs.copy(uploadKey, key);
  return key;
}

/**
 * Copies an upload a job will read; returns the copy's key. With an idempotency key the copy's name
 * is derived from it, the field and the upload key, and an existing copy is kept: a retried request
 * then names the same copies (so it is the same request and returns the same job), and it cannot
 * swap in bytes a reused form posted after the first attempt.
 */
export async function freezeJobInput(
  blobs: BlobStore,
  owner: string,
  uploadKey: string,
  field: string,
  idempotencyKey: string | undefined,
): Promise<string> {
  const name =
    idempotencyKey === undefined
      ? randomUUID()
      : createHash('sha256')
          .update(JSON.stringify([idempotencyKey, field, uploadKey]), 'utf8')
          .digest('hex');
  const key = `${BLOB_PREFIXES.jobInputs}${ownerSegment(owner)}/${name}`;
  if (idempotencyKey !== undefined && (await blobs.head(key)) !== null) return key;
  await blobs.copy(uploadKey, key);
  return key;
}
