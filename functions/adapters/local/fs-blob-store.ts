/**
 * `FsBlobStore`: the blob store on a local folder, standing in for S3.
 *
 * Layout under the root: `objects/<key>` holds the bytes, `meta/<key>.meta.json` the content type, and
 * `tmp/` half-written files. A write goes to `tmp/`, is flushed to disk, then renamed over the final
 * name; rename within one filesystem is atomic, so a reader sees the old object or the new one, never a
 * torn file. Keys are checked twice: by the shared key rules, then by resolving the path and confirming
 * it stays under `objects/`, so no key (however encoded) reads or writes outside the root. Upload
 * targets and download URLs are HMAC-signed (see `signed-urls.ts`) and served by the local HTTP server.
 */

import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
import {
  signDownloadUrl,
  signUploadPolicy,
  verifyDownloadUrl,
  verifyUploadPolicy,
  type UploadPolicy,
} from './signed-urls';

/** Options for `FsBlobStore`. */
export interface FsBlobStoreOptions {
  /** Folder that holds everything; created if missing. */
  root: string;
  /** HMAC key for upload policies and download URLs; keep it stable across restarts so URLs survive. */
  signingSecret: string | Uint8Array;
  /** Where clients POST uploads, e.g. "http://127.0.0.1:4000/uploads". */
  uploadUrl: string;
  /** Prefix of download URLs, e.g. "http://127.0.0.1:4000/blobs". */
  downloadBaseUrl: string;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

/** Longest lifetime of an upload target or download URL (S3's presigning limit, 7 days). */
export const MAX_URL_LIFETIME_SECONDS = 7 * 24 * 60 * 60;

function checkLifetime(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_URL_LIFETIME_SECONDS) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `expiresInSeconds must be an integer in 1..${MAX_URL_LIFETIME_SECONDS}, got ${seconds}.`,
      { field: 'expiresInSeconds' },
    );
  }
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function notFound(key: string): DomainError {
  return new DomainError(ErrorCode.NOT_FOUND, `No blob with key "${key}".`, { key });
}

const isKeyCursor = (value: unknown): value is string => typeof value === 'string';

/** Blobs in a local folder. */
export class FsBlobStore implements BlobStore {
  private readonly objectsDir: string;
  private readonly metaDir: string;
  private readonly tmpDir: string;
  private readonly clock: Clock;

  constructor(private readonly options: FsBlobStoreOptions) {
    const root = resolve(options.root);
    this.objectsDir = join(root, 'objects');
    this.metaDir = join(root, 'meta');
    this.tmpDir = join(root, 'tmp');
    // Owner-only (0700), also for folders an older version made 0755: blobs are other users' images.
    for (const dir of [root, this.objectsDir, this.metaDir, this.tmpDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    this.clock = options.clock ?? systemClock;
  }

  /** The file path for `key`, after proving it cannot leave `base`. */
  private pathFor(base: string, key: string, suffix = ''): string {
    assertBlobKey(key);
    const path = resolve(base, key + suffix);
    if (!path.startsWith(base + sep)) {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `Invalid blob key ${JSON.stringify(key)}: it resolves outside the store.`,
        {
          field: 'key',
        },
      );
    }
    return path;
  }

  async put(key: string, body: BlobBody, options: PutOptions = {}): Promise<BlobInfo> {
    const target = this.pathFor(this.objectsDir, key);
    const metaPath = this.pathFor(this.metaDir, key, '.meta.json');
    const tmp = join(this.tmpDir, randomUUID());
    try {
      const handle = await open(tmp, 'wx');
      try {
        if (body instanceof Uint8Array) {
          await handle.writeFile(body);
        } else {
          for await (const chunk of body) await handle.write(chunk);
        }
        // Flush before the rename so a crash cannot leave a complete-looking name over missing data.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      const code = errnoCode(error);
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
        throw new DomainError(
          ErrorCode.CONFLICT,
          `Cannot store "${key}": on the local filesystem a key cannot be both an object and a prefix of other keys.`,
          { key },
        );
      }
      throw error;
    }
    await this.writeMeta(metaPath, options.contentType);
    const info = await this.head(key);
    if (info === null) throw notFound(key);
    return info;
  }

  private async writeMeta(metaPath: string, contentType: string | undefined): Promise<void> {
    if (contentType === undefined) {
      await rm(metaPath, { force: true });
      return;
    }
    const tmp = join(this.tmpDir, randomUUID());
    await writeFile(tmp, JSON.stringify({ contentType }));
    await mkdir(dirname(metaPath), { recursive: true });
    await rename(tmp, metaPath);
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    const source = await this.head(from);
    if (source === null) throw notFound(from);
    // Streamed through put, so the copy appears whole under its key or not at all.
    return this.put(to, await this.getStream(from), { contentType: source.contentType });
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.pathFor(this.objectsDir, key);
    try {
      return await readFile(path);
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array>> {
    const path = this.pathFor(this.objectsDir, key);
    try {
      // Opening first makes a missing key fail here, before the caller has sent any response bytes.
      const handle = await open(path, 'r');
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw notFound(key);
      }
      return handle.createReadStream();
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    const path = this.pathFor(this.objectsDir, key);
    let stats;
    try {
      stats = await stat(path);
    } catch (error) {
      const translated = this.translate(error, key);
      if (translated instanceof DomainError && translated.code === ErrorCode.NOT_FOUND) return null;
      throw translated;
    }
    if (!stats.isFile()) return null;
    const info: BlobInfo = { key, size: stats.size, lastModified: stats.mtime.toISOString() };
    const contentType = await this.readContentType(key);
    if (contentType !== undefined) info.contentType = contentType;
    return info;
  }

  private async readContentType(key: string): Promise<string | undefined> {
    try {
      const meta = JSON.parse(await readFile(this.pathFor(this.metaDir, key, '.meta.json'), 'utf8')) as {
        contentType?: unknown;
      };
      return typeof meta.contentType === 'string' ? meta.contentType : undefined;
    } catch {
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathFor(this.objectsDir, key);
    for (const file of [path, this.pathFor(this.metaDir, key, '.meta.json')]) {
      try {
        await unlink(file);
      } catch (error) {
        const code = errnoCode(error);
        if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR' && code !== 'EPERM') throw error;
      }
    }
  }

  async list(request: ListBlobsRequest): Promise<Page<BlobInfo>> {
    assertBlobPrefix(request.prefix);
    const limit = pageLimit(request.limit);
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor, isKeyCursor);
    // Walk only the folder the prefix names; "photos/20" starts at objects/photos.
    const slash = request.prefix.lastIndexOf('/');
    const start = slash < 0 ? this.objectsDir : join(this.objectsDir, request.prefix.slice(0, slash));
    const keys = (await this.walk(start))
      .filter((key) => key.startsWith(request.prefix))
      .filter((key) => after === undefined || Buffer.compare(Buffer.from(key), Buffer.from(after)) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const items: BlobInfo[] = [];
    const pageKeys = keys.slice(0, limit);
    for (const key of pageKeys) {
      const info = await this.head(key);
      if (info !== null) items.push(info);
    }
    const page: Page<BlobInfo> = { items };
    const last = pageKeys.at(-1);
    if (keys.length > limit && last !== undefined) page.nextCursor = encodeCursor(last);
    return page;
  }

  private async walk(dir: string): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true, recursive: true });
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw error;
    }
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(this.objectsDir, join(entry.parentPath, entry.name)).split(sep).join('/'));
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
    const policy: UploadPolicy = {
      key: request.key,
      contentTypePrefix: request.contentTypePrefix,
      minBytes: 1,
      maxBytes: request.maxBytes,
      expiresAt,
    };
    return { url: this.options.uploadUrl, fields: signUploadPolicy(policy, this.options.signingSecret), expiresAt };
  }

  async createDownloadUrl(key: string, expiresInSeconds: number): Promise<string> {
    assertBlobKey(key);
    checkLifetime(expiresInSeconds);
    return signDownloadUrl(
      this.options.downloadBaseUrl,
      key,
      this.clock() + expiresInSeconds * 1000,
      this.options.signingSecret,
    );
  }

  /**
   * Checks a posted upload against the policy in its form fields (see `verifyUploadPolicy` in
   * `signed-urls.ts` for the errors) and returns the policy, whose `key` is where to store the file.
   */
  verifyUploadPolicy(
    fields: Record<string, string | undefined>,
    contentType: string,
    byteLength: number,
    now: number = this.clock(),
  ): UploadPolicy {
    return verifyUploadPolicy(fields, contentType, byteLength, now, this.options.signingSecret);
  }

  /** Checks a download URL made by this store and returns the key it grants. */
  verifyDownloadUrl(url: string, now: number = this.clock()): string {
    return verifyDownloadUrl(url, this.options.downloadBaseUrl, now, this.options.signingSecret);
  }

  private translate(error: unknown, key: string): unknown {
    if (error instanceof DomainError) return error;
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return notFound(key);
    return error;
  }
}
