/**
 * The blob store port: named byte objects such as uploaded images, stylized outputs and model packages.
 *
 * The filesystem adapter backs local runs and the S3 adapter backs AWS; both pass the same contract
 * suite. Keys follow the rules in `blob-key.ts`. Uploads from browsers never pass through the API: the
 * store hands out an upload target in the S3 presigned-POST shape, which the client posts the file to.
 */

import type { Page, PageRequest } from './page';

/** What a store knows about one object. */
export interface BlobInfo {
  key: string;
  /** Size in bytes. */
  size: number;
  /** The content type given when the object was written, if any. */
  contentType?: string;
  /** ISO-8601 time of the last write. */
  lastModified: string;
}

/** Bytes to write: a whole buffer, or a stream of chunks (a Node `Readable` is one). */
export type BlobBody = Uint8Array | AsyncIterable<Uint8Array>;

/** Options for a write. */
export interface PutOptions {
  contentType?: string;
}

/** Options for listing. */
export interface ListBlobsRequest extends PageRequest {
  /** Only keys starting with this; "" lists everything. */
  prefix: string;
}

/** What a client needs to upload one file straight to storage. */
export interface UploadTargetRequest {
  /** The key the upload will be stored under. */
  key: string;
  /** The content type must start with this, e.g. "image/". */
  contentTypePrefix: string;
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** How long the target stays usable. */
  expiresInSeconds: number;
}

/**
 * The S3 presigned-POST shape: POST a multipart form to `url` with every entry of `fields`, then a
 * `Content-Type` field, then the file as the last field.
 */
export interface UploadTarget {
  url: string;
  fields: Record<string, string>;
  /** ISO-8601 time after which the target is refused. */
  expiresAt: string;
}

/** Named byte objects. */
export interface BlobStore {
  /** Writes an object; readers see either the previous object or the complete new one, never a part. */
  put(key: string, body: BlobBody, options?: PutOptions): Promise<BlobInfo>;
  /** Reads a whole object; NOT_FOUND when absent. */
  get(key: string): Promise<Uint8Array>;
  /** Streams an object; NOT_FOUND (thrown before any chunk) when absent. */
  getStream(key: string): Promise<AsyncIterable<Uint8Array>>;
  /**
   * Copies an object to a new key with its content type; NOT_FOUND when `from` is absent. The copy is
   * independent: later writes to `from` (a reused upload form) do not change it.
   */
  copy(from: string, to: string): Promise<BlobInfo>;
  /** Describes an object, or returns null when absent. */
  head(key: string): Promise<BlobInfo | null>;
  /** Removes an object; removing an absent one is not an error. */
  delete(key: string): Promise<void>;
  /** Lists objects under a prefix in ascending key order (UTF-8 byte order, as S3 does). */
  list(request: ListBlobsRequest): Promise<Page<BlobInfo>>;
  /** Creates a browser upload target that enforces the key, content type, size and expiry. */
  createUploadTarget(request: UploadTargetRequest): Promise<UploadTarget>;
  /** Creates a URL from which anyone holding it may download the object until it expires. */
  createDownloadUrl(key: string, expiresInSeconds: number): Promise<string>;
}
