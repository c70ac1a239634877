/**
 * What makes a set of uploads a training dataset, shared by the two places that turn an upload prefix
 * into the folder the trainer reads: the local worker's download and the AWS launcher's copy into the
 * datasets bucket.
 *
 * Uploads are stored under server-made keys with no extension (`uploads/<owner>/<group>/<uuid>`), while
 * the trainer (like the CLI a user runs on a folder) recognises images by their extension. So each
 * file is named here after the format its first bytes show (`<uuid>.jpg`, `.png`, `.webp`), whatever
 * the client declared, and a file that is not a JPEG, PNG or WebP is left out and counted. The layout
 * the trainer expects (`content/` with at least one image, `style/` with at least two) is checked
 * before anything is copied, so a set that cannot train is refused with a message that says which
 * group to fill, instead of failing inside the trainer with a path on the server.
 */

import { BLOB_PREFIXES } from '../blob-prefixes';
import { DomainError, ErrorCode } from '../errors';
import { IMAGE_EXTENSIONS, isDecodableImageType } from '../image-formats';
import type { DetectedImageType } from './image-signature';

/** Bytes of a file's start that `detectImageType` needs. */
export const SIGNATURE_BYTES = 16;

/** The least a dataset needs: one content photo, and two style images (the metric loss needs a negative pair). */
export const MIN_CONTENT_IMAGES = 1;
export const MIN_STYLE_IMAGES = 2;

/**
 * The name under which a dataset file is written: its path below the upload prefix, with the
 * extension of its format (kept when it is already the right one). Null when the format is not one the
 * trainer reads.
 */
export function datasetFileName(relativePath: string, type: DetectedImageType | null): string | null {
  // The trainer reads the decodable formats; GIF is not one.
  if (!isDecodableImageType(type)) return null;
  const extension = IMAGE_EXTENSIONS[type];
  const lower = relativePath.toLowerCase();
  const already = type === 'image/jpeg' ? lower.endsWith('.jpg') || lower.endsWith('.jpeg') : lower.endsWith(extension);
  return already ? relativePath : `${relativePath}${extension}`;
}

/**
 * The group a client gives `createUpload` to place files under `prefix`: the part after the owner's
 * upload area (`uploads/<owner>/`).
 */
export function uploadGroupOf(prefix: string): string {
  const segments = prefix.split('/').filter((segment) => segment !== '');
  return (`${segments[0]}/` === BLOB_PREFIXES.uploads ? segments.slice(2) : segments).join('/');
}

/** How to fill a sub-folder of the dataset, for messages. */
function howToFill(group: string, folder: 'content' | 'style'): string {
  return `upload them with createUpload(…, group: "${group === '' ? folder : `${group}/${folder}`}")`;
}

/**
 * Checks the image files found under an upload prefix (paths relative to it, named by
 * `datasetFileName`) against the layout the trainer reads. BAD_REQUEST names what is missing and how
 * to add it; `skipped` (files that are not JPEG, PNG or WebP) is mentioned when it explains the gap.
 */
export function checkDatasetLayout(files: readonly string[], context: { prefix: string; skipped: number }): void {
  const group = uploadGroupOf(context.prefix);
  const content = files.filter((f) => f.startsWith('content/') && f.split('/').length === 2).length;
  // As the trainer reads style/: class folders one level deep when there are any, else one class per image.
  const styleFiles = files.filter((f) => f.startsWith('style/'));
  const inFolders = styleFiles.filter((f) => f.split('/').length === 3);
  const classFolders = inFolders.length > 0;
  const style = classFolders
    ? new Set(inFolders.map((f) => f.split('/')[1])).size
    : styleFiles.filter((f) => f.split('/').length === 2).length;
  const skipped =
    context.skipped > 0
      ? ` ${context.skipped} upload${context.skipped === 1 ? ' was' : 's were'} left out because ${context.skipped === 1 ? 'it is' : 'they are'} not a JPEG, PNG or WebP image.`
      : '';
  const field = { field: 'dataset.uploadPrefix' };
  if (content < MIN_CONTENT_IMAGES) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `dataset.uploadPrefix: ${JSON.stringify(context.prefix)} has no content image under content/; ${howToFill(group, 'content')}.${skipped}`,
      field,
    );
  }
  if (style < MIN_STYLE_IMAGES) {
    const found = classFolders
      ? `${style} style class folder under style/ (${JSON.stringify([...new Set(inFolders.map((f) => f.split('/')[1]))][0])})`
      : `${style} style image${style === 1 ? '' : 's'} under style/`;
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `dataset.uploadPrefix: ${JSON.stringify(context.prefix)} has ${found}; training needs at least ${MIN_STYLE_IMAGES} (two images, or two class folders), since its metric loss compares two styles: ${howToFill(group, 'style')}.${skipped}`,
      field,
    );
  }
}
