/**
 * `RoutedBlobStore`: one BlobStore over several buckets, choosing the bucket by key prefix.
 *
 * The use cases see a single key space (`drop/...` for uploads, `out/...` for results, ...), while the
 * stack keeps each kind in its own bucket with its own grants and lifecycle. A key under no configured
 * prefix is refused as UNAVAILABLE, which names the function's missing bucket rather than failing
 * inside the SDK.
 */

import { DomainError, ErrorCode } from '../../core';
import type {
  BlobBody,
  BlobInfo,
  BlobStore,
  ListBlobsRequest,
  Page,
  PutOptions,
  UploadTarget,
  UploadTargetRequest,
} from '../../core';

/** A store serving the keys that start with `prefix`. */
export interface BlobRoute {
  prefix: string;
  store: BlobStore;
}

/** Routes each call to the store whose prefix the key starts with. */
export class RoutedBlobStore implements BlobStore {
  constructor(private readonly routes: readonly BlobRoute[]) {}

  put(key: string, body: BlobBody, options?: PutOptions): Promise<BlobInfo> {
    return this.route(key).put(key, body, options);
  }
  async copy(from: string, to: string): Promise<BlobInfo> {
    const source = this.route(from);
    const target = this.route(to);
    if (source === target) return source.copy(from, to);
    // Across buckets the bytes pass through this function; styles and inputs are a few MB at most.
    const info = await source.head(from);
    if (info === null) throw new DomainError(ErrorCode.NOT_FOUND, `No blob with key "${from}".`, { key: from });
    return target.put(to, await source.getStream(from), { contentType: info.contentType });
  }
  get(key: string): Promise<Uint8Array> {
    return this.route(key).get(key);
  }
  getStream(key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.route(key).getStream(key);
  }
  head(key: string): Promise<BlobInfo | null> {
    return this.route(key).head(key);
  }
  delete(key: string): Promise<void> {
    return this.route(key).delete(key);
  }
  list(request: ListBlobsRequest): Promise<Page<BlobInfo>> {
    return this.route(request.prefix).list(request);
  }
  createUploadTarget(request: UploadTargetRequest): Promise<UploadTarget> {
    return this.route(request.key).createUploadTarget(request);
  }
  createDownloadUrl(key: string, expiresInSeconds: number): Promise<string> {
    return this.route(key).createDownloadUrl(key, expiresInSeconds);
  }

  private route(key: string): BlobStore {
    const match = this.routes.find((route) => key.startsWith(route.prefix));
    if (match === undefined) {
      throw new DomainError(
        ErrorCode.UNAVAILABLE,
        `No storage is configured for "${key}" in this function. Configured prefixes: ${
          this.routes.map((route) => route.prefix).join(', ') || 'none'
        }.`,
        { key },
      );
    }
    return match.store;
  }
}
