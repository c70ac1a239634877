/**
 * `S3DatasetStager`: copies a training image set from the uploads bucket into the datasets bucket.
 *
 * SageMaker's training channel reads one S3 prefix, and the stack lets it read only `datasets/` in the
 * datasets bucket, while users send their images through the API into `uploads/<owner>/…` in the
 * uploads bucket. Before a run on an uploaded set starts, its objects are copied server side
 * (ListObjectsV2, then CopyObject per object: no bytes pass through the function) to
 * `datasets/<jobId>/`, keeping the layout below the source prefix (`content/…`, `style/…`), which is
 * the layout the trainer reads.
 *
 * Uploads are stored under server-made keys without an extension, and the trainer reads images by
 * extension, so each object's first bytes are read (a ranged GET of 16 bytes) and the copy is named
 * after the format they show (`content/<uuid>.jpg`); objects that are not JPEG, PNG or WebP are not
 * copied. A set without the layout the trainer needs is refused with BAD_REQUEST before anything is
 * copied (`checkDatasetLayout`), so the job fails at once with a message that says which upload group
 * to fill.
 *
 * The whole listing is checked against the object-count and byte caps before anything is copied, so
 * an oversized set leaves nothing behind. Destination keys depend only on the job id and the source
 * keys, so a retried launch copies onto the same keys and ends in the same state.
 */

import { CopyObjectCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { assertBlobPrefix, BLOB_PREFIXES, DomainError, ErrorCode } from '../../core';
import { checkDatasetLayout, datasetFileName, detectImageType, SIGNATURE_BYTES } from '../../core/use-cases';
import { translateAwsError } from './aws-errors';

/** Options for `S3DatasetStager`. */
export interface S3DatasetStagerOptions {
  /** A client from `createS3Client`. */
  client: S3Client;
  /** The bucket the uploaded images are in (env PEERSTYLE_UPLOADS_BUCKET). */
  uploadsBucket: string;
  /** The bucket the training channel reads (env PEERSTYLE_DATASETS_BUCKET). */
  datasetsBucket: string;
  /** Most objects one staged set may hold. @default 20000 */
  maxObjects?: number;
  /** Most bytes one staged set may hold. @default 10 GiB */
  maxBytes?: number;
  /** Copies in flight at once. @default 8 */
  concurrency?: number;
}

/** What to stage. */
export interface StageDatasetRequest {
  /** The training job's id; the set lands under `datasets/<jobId>/`. */
  jobId: string;
  /** A prefix in the uploads bucket, ending in "/", already checked to belong to the job's owner. */
  sourcePrefix: string;
}

/** A staged set. */
export interface StagedDataset {
  /** The folder under `datasets/` the training channel should read. */
  folder: string;
  /** Objects copied (images only). */
  objects: number;
  /** Objects left out because they are not JPEG, PNG or WebP images. */
  skipped: number;
  /** Bytes copied. */
  bytes: number;
}

/** Default caps: a generous style-training set (tens of thousands of images is already unusual). */
export const DEFAULT_DATASET_LIMITS = { maxObjects: 20_000, maxBytes: 10 * 1024 ** 3 } as const;

/** Copies uploaded training sets into the datasets bucket. */
export class S3DatasetStager {
  private readonly client: S3Client;
  private readonly uploadsBucket: string;
  private readonly datasetsBucket: string;
  private readonly maxObjects: number;
  private readonly maxBytes: number;
  private readonly concurrency: number;

  constructor(options: S3DatasetStagerOptions) {
    this.client = options.client;
    this.uploadsBucket = options.uploadsBucket;
    this.datasetsBucket = options.datasetsBucket;
    this.maxObjects = options.maxObjects ?? DEFAULT_DATASET_LIMITS.maxObjects;
    this.maxBytes = options.maxBytes ?? DEFAULT_DATASET_LIMITS.maxBytes;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
  }

  /**
   * Copies every object under `sourcePrefix` to `datasets/<jobId>/`. NOT_FOUND for an empty prefix,
   * TOO_LARGE past a cap (nothing copied), BAD_REQUEST for an unsafe prefix or job id.
   */
  async stage(request: StageDatasetRequest): Promise<StagedDataset> {
    const { sourcePrefix, jobId } = request;
    if (!sourcePrefix.endsWith('/') || !/^[A-Za-z0-9_-]+$/.test(jobId)) {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `Cannot stage ${JSON.stringify(sourcePrefix)} for job ${JSON.stringify(jobId)}.`,
        {
          field: 'dataset',
        },
      );
    }
    assertBlobPrefix(sourcePrefix);
    const sources = await this.listWithinCaps(sourcePrefix);
    if (sources.length === 0) {
      throw new DomainError(
        ErrorCode.NOT_FOUND,
        `dataset.uploadPrefix: no uploads under ${JSON.stringify(sourcePrefix)}.`,
        {
          field: 'dataset.uploadPrefix',
        },
      );
    }
    const destination = `${BLOB_PREFIXES.datasets}${jobId}/`;
    const named = await this.inParallel(sources, async (source) => ({
      source,
      name: datasetFileName(source.key.slice(sourcePrefix.length), detectImageType(await this.firstBytes(source.key))),
    }));
    const images = named.flatMap(({ source, name }) => (name === null ? [] : [{ ...source, name }]));
    checkDatasetLayout(
      images.map((image) => image.name),
      { prefix: sourcePrefix, skipped: sources.length - images.length },
    );
    await this.inParallel(images, ({ key, name }) => this.copy(key, `${destination}${name}`));
    return {
      folder: jobId,
      objects: images.length,
      skipped: sources.length - images.length,
      bytes: images.reduce((sum, s) => sum + s.size, 0),
    };
  }

  /** Runs `task` over `items`, `concurrency` at a time; results in the items' order. */
  private async inParallel<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index] as T);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
    return results;
  }

  /** The first bytes of an upload, enough to tell its format. */
  private async firstBytes(key: string): Promise<Uint8Array> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.uploadsBucket, Key: key, Range: `bytes=0-${SIGNATURE_BYTES - 1}` }),
      );
      return (await response.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (error) {
      throw translateAwsError(error, `Reading ${key}`);
    }
  }

  /** Lists the source set, stopping at the first object past a cap. */
  private async listWithinCaps(prefix: string): Promise<{ key: string; size: number }[]> {
    const found: { key: string; size: number }[] = [];
    let bytes = 0;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.uploadsBucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw translateAwsError(error, `Listing ${prefix}`);
      }
      for (const object of page.Contents ?? []) {
        // "Folder" markers some S3 clients create carry no image.
        if (object.Key === undefined || object.Key.endsWith('/')) continue;
        found.push({ key: object.Key, size: object.Size ?? 0 });
        bytes += object.Size ?? 0;
        if (found.length > this.maxObjects || bytes > this.maxBytes) {
          throw new DomainError(
            ErrorCode.TOO_LARGE,
            `dataset.uploadPrefix: ${JSON.stringify(prefix)} holds more than ${
              found.length > this.maxObjects ? `${this.maxObjects} files` : `${this.maxBytes} bytes`
            }, the most one training run may copy (limits: ${this.maxObjects} files, ${this.maxBytes} bytes).`,
            { field: 'dataset.uploadPrefix', maxObjects: this.maxObjects, maxBytes: this.maxBytes },
          );
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  }

  private async copy(sourceKey: string, destinationKey: string): Promise<void> {
    // CopySource is a URL path: each key segment is encoded, the separators are not.
    const source = `${this.uploadsBucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.datasetsBucket, Key: destinationKey, CopySource: source }),
      );
    } catch (error) {
      throw translateAwsError(error, `Copying ${sourceKey} to ${destinationKey}`);
    }
  }
}
