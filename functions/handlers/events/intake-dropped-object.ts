/**
 * `intakeDroppedObject`: what happens to one object that landed under `drop/<style-id>/<file>`.
 *
 * The object is checked (its style id, size, magic bytes and pixel dimensions) before anything is
 * queued. An object that fails a check is copied to `rejected/<style-id>/<file>` beside a
 * `<file>.reason.txt`, and the notification is acknowledged: the same bytes would fail the same way
 * again, so a retry would only waste time. An object that passes becomes a QUEUED stylize job whose
 * idempotency key is derived from the object's identity (bucket, key, and version id or ETag), so S3's
 * at-least-once delivery can never make two jobs of one upload. Failures of the services themselves propagate, so the caller can ask for a retry.
 */

import { createHash } from 'node:crypto';
import {
  BLOB_PREFIXES,
  parseStylizeOptions,
  type BlobStore,
  type JobQueue,
  type JobStore,
  type StylizeJobInput,
} from '../../core';
import { inspectDroppedImage, DEFAULT_DROP_LIMITS, type DropImageLimits } from '../../core/use-cases';
import { blobImageSource } from './blob-image-source';
import type { S3ObjectRef } from './s3-notification';
import type { StyleLookup } from './style-lookup';

/** Owner of the jobs the drop folder creates. */
export const DROP_OWNER = 'drop-folder';

/** What the intake uses. */
export interface IntakeDeps {
  /** The uploads bucket. */
  blobs: BlobStore;
  /** Its name; notifications about any other bucket are ignored, since `blobs` cannot read them. */
  bucket?: string;
  jobs: JobStore;
  queue: JobQueue;
  styles: StyleLookup;
  /** @default DEFAULT_DROP_LIMITS */
  limits?: DropImageLimits;
  /** @default DROP_OWNER */
  owner?: string;
}

/** What became of one object. */
export type IntakeResult =
  | { action: 'created'; jobId: string }
  | { action: 'duplicate'; jobId: string }
  | { action: 'rejected'; reason: string; rejectedKey: string }
  | { action: 'ignored'; reason: string };

/**
 * The idempotency key of one uploaded object version. Hashed because S3 keys may be 1024 bytes, more
 * than a job's idempotency key may hold; the version id (or, in an unversioned bucket, the ETag) tells
 * a re-upload of the same name apart from a redelivered notification.
 */
export function dropIdempotencyKey(object: Pick<S3ObjectRef, 'bucket' | 'key' | 'versionId' | 'eTag'>): string {
  const version = object.versionId ?? object.eTag ?? '';
  return `drop:${createHash('sha256').update(`${object.bucket}/${object.key}#${version}`, 'utf8').digest('hex')}`;
}

async function reject(blobs: BlobStore, key: string, reason: string): Promise<IntakeResult> {
  const rejectedKey = `${BLOB_PREFIXES.rejected}${key.slice(BLOB_PREFIXES.drop.length)}`;
  // Streamed, because a file rejected for its size can be too large to hold in memory.
  if ((await blobs.head(key)) !== null) await blobs.put(rejectedKey, await blobs.getStream(key));
  await blobs.put(`${rejectedKey}.reason.txt`, Buffer.from(`${reason}\n`, 'utf8'), {
    contentType: 'text/plain; charset=utf-8',
  });
  return { action: 'rejected', reason, rejectedKey };
}

/** Validates one dropped object and creates its stylize job, or rejects it with a reason. */
export async function intakeDroppedObject(deps: IntakeDeps, object: S3ObjectRef): Promise<IntakeResult> {
  const { blobs } = deps;
  if (deps.bucket !== undefined && object.bucket !== deps.bucket) {
    return { action: 'ignored', reason: `${object.bucket} is not the uploads bucket` };
  }
  if (!object.key.startsWith(BLOB_PREFIXES.drop))
    return { action: 'ignored', reason: `${object.key} is not under ${BLOB_PREFIXES.drop}` };
  if (object.key.endsWith('/')) return { action: 'ignored', reason: 'a folder placeholder, not a file' };
  const parts = object.key.slice(BLOB_PREFIXES.drop.length).split('/');
  const [styleId, name] = parts;
  if (parts.length !== 2 || !styleId || !name) {
    return reject(
      blobs,
      object.key,
      `Images go in a folder named after a style id: ${BLOB_PREFIXES.drop}<style-id>/<image>.`,
    );
  }
  const style = await deps.styles.find(styleId);
  if (style === null) {
    const known = await deps.styles.known(20);
    return reject(
      blobs,
      object.key,
      `Unknown style id "${styleId}". Expected one of: ${known.length > 0 ? known.join(', ') : '(no styles yet)'}.`,
    );
  }
  const inspection = await inspectDroppedImage(blobImageSource(blobs, object.key), deps.limits ?? DEFAULT_DROP_LIMITS);
  if (inspection.ok === 'gone') return { action: 'ignored', reason: `${object.key} was deleted before it was read` };
  // "CODE: reason", as the local drop folder writes it.
  if (!inspection.ok) return reject(blobs, object.key, `${inspection.code}: ${inspection.reason}`);

  const input: StylizeJobInput = {
    ...parseStylizeOptions({ format: 'png' }),
    contentKey: object.key,
    styles: [{ key: style.key, weight: 1, styleId: style.styleId }],
    source: { bucket: object.bucket, key: object.key, versionId: object.versionId, name },
  };
  const { job, created } = await deps.jobs.create({
    owner: deps.owner ?? DROP_OWNER,
    kind: 'STYLIZE',
    idempotencyKey: dropIdempotencyKey(object),
    input,
  });
  if (!created) {
    // A redelivered notification finds the job. It is queued again only if it has not started: the
    // first attempt may have died between creating and queueing it, and a second queue message for a
    // job that waits is harmless, because only one worker can move it from QUEUED to RUNNING.
    if (job.status === 'QUEUED') await deps.queue.enqueue(job.id);
    return { action: 'duplicate', jobId: job.id };
  }
  await deps.queue.enqueue(job.id);
  return { action: 'created', jobId: job.id };
}
