/**
 * Finds the training images of a dataset folder, checks that each one decodes, and returns them in a
 * sorted, deterministic order. It runs once before training so that a malformed dataset is refused with
 * one clear message up front, not hours into a run.
 *
 * Dataset layout:
 *
 * ```
 * <root>/
 *   content/            photos, all one class (sub-folders and non-image files are ignored with a warning)
 *   style/              either class folders ...
 *     van-gogh/           one folder per artist or style class; two images of one class are a positive pair
 *     monet/
 *   style/              ... or a flat folder of images (as datasets/sample/style), where every image is its
 *                       own class and the positive pair is two different random crops of that image
 * ```
 *
 * Images are files ending in .jpg, .jpeg, .png or .webp (any case). Hidden files (starting with ".") are
 * ignored silently; other files are ignored with a warning. If `style/` has any sub-folder, the layout
 * is class folders and images lying loose in `style/` are ignored with a warning.
 *
 * A class folder with a single image is kept: like a flat-layout class, its positive pair is two crops
 * of that image. Dropping it would waste a painter's only painting, and two crops of one painting are a
 * faithful positive for a style code. A class folder with no usable image is dropped with a warning.
 * The metric loss needs a negative pair, so at least two style classes must remain.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage } from './decode-image';
import { DataError, EXPECTED_LAYOUT } from './errors';

/** One class of style images; in a flat layout, `name` is the file name and `files` holds that file. */
export interface StyleClass {
  name: string;
  files: string[];
}

/** The usable images of a dataset, as absolute paths in sorted order. */
export interface DatasetIndex {
  /** Absolute path of the dataset root. */
  root: string;
  /** Photos (class 0 in the reference). */
  content: string[];
  /** Style classes sorted by name, each with at least one file. */
  styleClasses: StyleClass[];
  /** True when `style/` has no sub-folders and each image is its own class. */
  flatStyle: boolean;
  /** Files passed over (not an image, misplaced, or failed to decode), with the reason. */
  skipped: { file: string; reason: string }[];
}

/** Options for {@link indexDataset}. */
export interface IndexOptions {
  /** Largest tolerated fraction (0..1) of image files that fail to decode; beyond it, indexing throws. */
  maxCorruptFraction: number;
  /** Receives one line per file passed over or class adjusted. @default ignore warnings */
  onWarning?: (message: string) => void;
  /** Images decoded at once while checking; two cores gain nothing from more. @default 4 */
  concurrency?: number;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/** Code-point order, so that the result does not depend on the machine's locale. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function requireFolder(folder: string, what: string): Promise<void> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new DataError('MISSING_FOLDER', `${what} ${folder} does not exist or is not a folder. ${EXPECTED_LAYOUT}.`);
  }
}

/** Resolves symlinks, which Dirent reports as neither file nor folder. */
async function kindOf(folder: string, entry: Dirent): Promise<'file' | 'folder' | 'other'> {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'folder';
  if (entry.isSymbolicLink()) {
    const info = await stat(path.join(folder, entry.name)).catch(() => undefined);
    if (info?.isFile()) return 'file';
    if (info?.isDirectory()) return 'folder';
  }
  return 'other';
}

interface Listing {
  images: string[];
  folders: string[];
  others: string[];
}

/** Lists a folder's visible entries, sorted, split into image files, sub-folders and everything else. */
async function listFolder(folder: string): Promise<Listing> {
  const entries = (await readdir(folder, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => byCodePoint(a.name, b.name));
  const listing: Listing = { images: [], folders: [], others: [] };
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    const kind = await kindOf(folder, entry);
    if (kind === 'folder') listing.folders.push(full);
    else if (kind === 'file' && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) listing.images.push(full);
    else listing.others.push(full);
  }
  return listing;
}

/** Decodes every file, a few at a time, and returns the set of those that failed with their reasons. */
async function findCorrupt(files: string[], concurrency: number): Promise<Map<string, string>> {
  const corrupt = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++] as string;
      try {
        await decodeImage(file);
      } catch (err) {
        corrupt.set(file, err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  return corrupt;
}

/**
 * Indexes the dataset at `root` (layout in this file's header) and checks that every image decodes.
 *
 * @throws DataError `MISSING_FOLDER` when root, `content/` or `style/` is missing; `EMPTY_FOLDER` when
 *   `content/` or `style/` has no usable image; `TOO_MANY_CORRUPT` when more than `maxCorruptFraction`
 *   of all image files fail to decode; `TOO_FEW_STYLE_CLASSES` when fewer than two style classes remain.
 */
export async function indexDataset(root: string, options: IndexOptions): Promise<DatasetIndex> {
  const warn = options.onWarning ?? ((): void => undefined);
  const absRoot = path.resolve(root);
  const contentDir = path.join(absRoot, 'content');
  const styleDir = path.join(absRoot, 'style');
  await requireFolder(absRoot, 'Dataset folder');
  await requireFolder(contentDir, 'Content folder');
  await requireFolder(styleDir, 'Style folder');

  const skipped: DatasetIndex['skipped'] = [];
  const skip = (file: string, reason: string): void => {
    skipped.push({ file, reason });
    warn(`Skipping ${file}: ${reason}.`);
  };
  const notImage = 'not a .jpg, .jpeg, .png or .webp image';

  const content = await listFolder(contentDir);
  for (const folder of content.folders) skip(folder, 'content/ is one class, so its sub-folders are not read');
  for (const other of content.others) skip(other, notImage);
  if (content.images.length === 0) {
    throw new DataError(
      'EMPTY_FOLDER',
      `Content folder ${contentDir} holds no .jpg, .jpeg, .png or .webp image. ${EXPECTED_LAYOUT}.`,
    );
  }

  const style = await listFolder(styleDir);
  for (const other of style.others) skip(other, notImage);
  const flatStyle = style.folders.length === 0;
  let candidates: StyleClass[];
  if (flatStyle) {
    candidates = style.images.map((file) => ({ name: path.basename(file), files: [file] }));
  } else {
    for (const loose of style.images)
      skip(loose, 'style/ has class folders, so images directly inside it belong to no class');
    candidates = [];
    for (const folder of style.folders) {
      const listing = await listFolder(folder);
      for (const nested of listing.folders) skip(nested, 'class folders are read one level deep');
      for (const other of listing.others) skip(other, notImage);
      candidates.push({ name: path.basename(folder), files: listing.images });
    }
  }

  const allImages = [...content.images, ...candidates.flatMap((c) => c.files)];
  const corrupt = await findCorrupt(allImages, options.concurrency ?? 4);
  for (const [file, reason] of corrupt) skip(file, `cannot be decoded (${reason})`);
  if (corrupt.size > options.maxCorruptFraction * allImages.length) {
    const examples = [...corrupt.keys()].slice(0, 3).join(', ');
    throw new DataError(
      'TOO_MANY_CORRUPT',
      `${corrupt.size} of ${allImages.length} images in ${absRoot} cannot be decoded (for example ${examples}), ` +
        `more than the allowed fraction ${options.maxCorruptFraction}. Expected readable JPEG, PNG or WebP files; remove or replace the broken ones.`,
    );
  }

  const usableContent = content.images.filter((f) => !corrupt.has(f));
  if (usableContent.length === 0) {
    throw new DataError('EMPTY_FOLDER', `Content folder ${contentDir} holds no decodable image. ${EXPECTED_LAYOUT}.`);
  }
  const styleClasses: StyleClass[] = [];
  for (const candidate of candidates) {
    const files = candidate.files.filter((f) => !corrupt.has(f));
    if (files.length === 0) {
      if (!flatStyle)
        warn(
          `Ignoring style class "${candidate.name}": ${path.join(styleDir, candidate.name)} holds no decodable image.`,
        );
      continue;
    }
    if (files.length === 1 && !flatStyle) {
      warn(`Style class "${candidate.name}" has one image; its positive pair will be two crops of ${files[0]}.`);
    }
    styleClasses.push({ name: candidate.name, files });
  }
  if (styleClasses.length === 0) {
    throw new DataError('EMPTY_FOLDER', `Style folder ${styleDir} holds no decodable image. ${EXPECTED_LAYOUT}.`);
  }
  if (styleClasses.length < 2) {
    const found = flatStyle ? `1 image (${styleClasses[0]?.files[0]})` : `1 class ("${styleClasses[0]?.name}")`;
    throw new DataError(
      'TOO_FEW_STYLE_CLASSES',
      `Style folder ${styleDir} gives ${found}; the metric loss needs a negative pair, so expected at least two class folders or, in a flat folder, at least two images.`,
    );
  }
  return { root: absRoot, content: usableContent, styleClasses, flatStyle, skipped };
}
