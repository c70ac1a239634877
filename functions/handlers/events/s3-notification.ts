/**
 * Reading S3 event notifications out of SQS message bodies.
 *
 * Two quirks of S3 matter here. Configuring a notification makes S3 send one `s3:TestEvent` message
 * that has no `Records` array; it must be acknowledged, or it is redelivered until it expires. And the
 * object keys in events are URL-encoded with spaces as `+` (form encoding), so `drop/my+photo.jpg`
 * names `drop/my photo.jpg` and a real plus sign arrives as `%2B`.
 */

import { DomainError, ErrorCode, isRecord } from '../../core';

/** One object a notification reports. */
export interface S3ObjectRef {
  bucket: string;
  /** The decoded key. */
  key: string;
  /** Size the event reports, in bytes; the object itself is checked before use. */
  size: number | null;
  /** Present when the bucket has versioning. */
  versionId: string | null;
  eTag: string | null;
  /** Orders events for one key; hex, compare by length then value. */
  sequencer: string | null;
  /** e.g. "ObjectCreated:Put". */
  eventName: string;
}

/** What one SQS message body held. */
export type S3Notification = { kind: 'test' } | { kind: 'records'; objects: S3ObjectRef[] };

/** Decodes an S3 event key: `+` is a space, then percent-decoding. */
export function decodeS3Key(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch (error) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `The event key ${JSON.stringify(encoded)} is not valid URL encoding.`,
      {
        field: 'key',
      },
      { cause: error },
    );
  }
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/**
 * Parses one SQS message body as an S3 notification. BAD_REQUEST for a body that is neither a test
 * event nor a records list: such a message will never parse, so callers acknowledge it.
 */
export function parseS3Notification(body: string): S3Notification {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new DomainError(ErrorCode.BAD_REQUEST, 'The message body is not JSON; expected an S3 event notification.');
  }
  if (isRecord(value) && value.Event === 's3:TestEvent') return { kind: 'test' };
  if (!isRecord(value) || !Array.isArray(value.Records)) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      'The message body has no "Records"; expected an S3 event notification.',
    );
  }
  const objects = value.Records.map((record: unknown, index: number): S3ObjectRef => {
    const s3 = isRecord(record) && isRecord(record.s3) ? record.s3 : undefined;
    const bucket = s3 && isRecord(s3.bucket) ? s3.bucket.name : undefined;
    const object = s3 && isRecord(s3.object) ? s3.object : undefined;
    if (typeof bucket !== 'string' || object === undefined || typeof object.key !== 'string') {
      throw new DomainError(ErrorCode.BAD_REQUEST, `Record ${index} lacks s3.bucket.name or s3.object.key.`);
    }
    return {
      bucket,
      key: decodeS3Key(object.key),
      size: typeof object.size === 'number' ? object.size : null,
      versionId: stringOrNull(object.versionId),
      eTag: stringOrNull(object.eTag),
      sequencer: stringOrNull(object.sequencer),
      eventName: isRecord(record) && typeof record.eventName === 'string' ? record.eventName : '',
    };
  });
  return { kind: 'records', objects };
}
