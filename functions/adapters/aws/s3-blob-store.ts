/**
 * `S3BlobStore`: the blob store on one S3 bucket.
 *
 * Small buffers go up in one PutObject; streams go through lib-storage's `Upload`, which switches to a
 * multipart upload once the body passes one part (5 MiB) and aborts the multipart upload if the body
 * fails, so a broken stream leaves no object and the previous version intact. S3 makes a new object
 * visible only when the write completes, which gives the port's all-or-nothing guarantee for free.
 * Listing cursors wrap S3's continuation token; upload targets are presigned POST policies that S3
 * itself enforces (key, content-type prefix, size range, expiry); download links are presigned GETs.
 */

import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import {
  assertBlobKey,
  assertBlobPrefix,
  decodeCursor,
  DomainError,
  encodeCursor,
  ErrorCode,
  pageLimit,
  systemClock,
} from '../../core';
import type {
  BlobBody,
  BlobInfo,
  BlobStore,
  Clock,
  ListBlobsRequest,
  Page,
  PutOptions,
  UploadTarget,
  UploadTargetRequest,
} from '../../core';
import { awsErrorName, awsHttpStatus, translateAwsError } from './aws-errors';

/** Options for `S3BlobStore`. */
export interface S3BlobStoreOptions {
  /** A client from `createS3Client`. */
  client: S3Client;
  /** The bucket that holds every object of this store. */
  bucket: string;
  /** Size of each multipart part for streamed bodies, in bytes (S3's minimum is 5 MiB). @default 5 MiB */
  partSize?: number;
  /** Where time comes from, for upload-target expiry. @default systemClock */
  clock?: Clock;
}

/** Longest lifetime of a presigned POST or GET (SigV4's limit, 7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/** Smallest multipart part S3 accepts (except the last). */
const MIN_PART_SIZE = 5 * 1024 * 1024;

function checkLifetime(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `expiresInSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}, got ${seconds}.`,
      { field: 'expiresInSeconds' },
    );
  }
}

function notFound(key: string): DomainError {
  return new DomainError(ErrorCode.NOT_FOUND, `No blob with key "${key}".`, { key });
}

/**
 * True for the ways S3 says an object is absent: NoSuchKey on GET, a body-less 404 (named NotFound) on
 * HEAD. A missing bucket (NoSuchBucket) is deliberately not one of them: that is a deployment error,
 * and reporting it as a missing object would hide it.
 */
function isMissing(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

const isTokenCursor = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Blobs in an S3 bucket. */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly clock: Clock;

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.partSize = Math.max(options.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.clock = options.clock ?? systemClock;
  }

  async put(key: string, body: BlobBody, options: PutOptions = {}): Promise<BlobInfo> {
    assertBlobKey(key);
    const contentType = options.contentType;
    if (body instanceof Uint8Array) {
      try {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
        );
      } catch (error) {
        throw translateAwsError(error, `Storing "${key}"`);
      }
    } else {
      // Upload buffers one part at a time and aborts the multipart upload when the source throws.
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: Readable.from(body), ContentType: contentType },
        partSize: this.partSize,
        queueSize: 2,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        // A failure of the caller's stream is the caller's error; only SDK failures are translated.
        if (awsHttpStatus(error) === undefined) throw error;
        throw translateAwsError(error, `Storing "${key}"`);
      }
    }
    const info = await this.head(key);
    if (info === null) throw notFound(key);
    return info;
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    assertBlobKey(from);
    assertBlobKey(to);
    try {
      // A server-side copy: the bytes never leave S3, and the content type is copied with them.
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: to,
          CopySource: `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'COPY',
        }),
      );
    } catch (error) {
      throw this.translate(error, from, 'Copying');
    }
    const info = await this.head(to);
    if (info === null) throw notFound(to);
    return info;
  }

  async get(key: string): Promise<Uint8Array> {
    assertBlobKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (response.Body === undefined) throw notFound(key);
      return await response.Body.transformToByteArray();
    } catch (error) {
      throw this.translate(error, key, 'Reading');
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array>> {
    assertBlobKey(key);
    try {
      // GetObject resolves once the headers arrive, so a missing key fails here, before any chunk.
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (response.Body === undefined) throw notFound(key);
      return response.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (error) {
      throw this.translate(error, key, 'Reading');
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    assertBlobKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const info: BlobInfo = {
        key,
        size: response.ContentLength ?? 0,
        lastModified: (response.LastModified ?? new Date(0)).toISOString(),
      };
      if (response.ContentType !== undefined) info.contentType = response.ContentType;
      return info;
    } catch (error) {
      if (isMissing(error)) return null;
      throw translateAwsError(error, `Describing "${key}"`);
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isMissing(error)) return;
      throw translateAwsError(error, `Deleting "${key}"`);
    }
  }

  async list(request: ListBlobsRequest): Promise<Page<BlobInfo>> {
    assertBlobPrefix(request.prefix);
    const limit = pageLimit(request.limit);
    const token = request.cursor === undefined ? undefined : decodeCursor(request.cursor, isTokenCursor);
    let response;
    try {
      response = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: request.prefix === '' ? undefined : request.prefix,
          MaxKeys: limit,
          ContinuationToken: token,
        }),
      );
    } catch (error) {
      if (token !== undefined && awsErrorName(error) === 'InvalidArgument') {
        throw new DomainError(
          ErrorCode.BAD_REQUEST,
          'Invalid page cursor: pass back the nextCursor of a previous page.',
          {
            field: 'cursor',
          },
        );
      }
      throw translateAwsError(error, `Listing "${request.prefix}"`);
    }
    // ListObjectsV2 does not return content types; callers that need one ask `head` for that key.
    const items: BlobInfo[] = (response.Contents ?? []).map((object) => ({
      key: object.Key ?? '',
      size: object.Size ?? 0,
      lastModified: (object.LastModified ?? new Date(0)).toISOString(),
    }));
    const page: Page<BlobInfo> = { items };
    if (response.IsTruncated === true && response.NextContinuationToken !== undefined) {
      page.nextCursor = encodeCursor(response.NextContinuationToken);
    }
    return page;
  }

  async createUploadTarget(request: UploadTargetRequest): Promise<UploadTarget> {
    assertBlobKey(request.key);
    checkLifetime(request.expiresInSeconds);
    if (!Number.isInteger(request.maxBytes) || request.maxBytes < 1) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `maxBytes must be a positive integer, got ${request.maxBytes}.`, {
        field: 'maxBytes',
      });
    }
    if (request.contentTypePrefix.length === 0) {
      throw new DomainError(ErrorCode.BAD_REQUEST, 'contentTypePrefix must be non-empty, e.g. "image/".', {
        field: 'contentTypePrefix',
      });
    }
    const expiresAt = new Date(this.clock() + request.expiresInSeconds * 1000).toISOString();
    try {
      const { url, fields } = await createPresignedPost(this.client, {
        Bucket: this.bucket,
        Key: request.key,
        // The key is pinned by the signed `key` field; these conditions make S3 refuse other files.
        Conditions: [
          ['content-length-range', 1, request.maxBytes],
          ['starts-with', '$Content-Type', request.contentTypePrefix],
        ],
        Expires: request.expiresInSeconds,
      });
      return { url, fields, expiresAt };
    } catch (error) {
      throw translateAwsError(error, `Creating an upload target for "${request.key}"`);
    }
  }

  async createDownloadUrl(key: string, expiresInSeconds: number): Promise<string> {
    assertBlobKey(key);
    checkLifetime(expiresInSeconds);
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        expiresIn: expiresInSeconds,
      });
    } catch (error) {
      throw translateAwsError(error, `Signing a download URL for "${key}"`);
    }
  }

  private translate(error: unknown, key: string, doing: string): DomainError {
    if (error instanceof DomainError) return error;
    if (isMissing(error)) return notFound(key);
    return translateAwsError(error, `${doing} "${key}"`);
  }
}
