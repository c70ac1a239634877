/**
 * The evaluation itself: every selected content × style pair is stylised through an injected
 * {@link Stylizer} and measured next to three baselines computed in the same run, so the figures of a
 * model always come with the reference points that give them meaning:
 *
 * - `content`: the content image unchanged (all content, no style);
 * - `style`: the style image resized to the content's size (all style, no content);
 * - `reinhard`: the content recoloured with the style's Lab statistics (colour only, no texture);
 * - `peerstyle`: the stylizer's output, resized to the content's size.
 *
 * The stylizer is a plain function of two file paths, so this module knows nothing about the engine
 * and is tested with stylizers defined in the tests.
 */
import path from 'node:path';
import {
  contentReference,
  type ContentReference,
  measurePair,
  styleReference,
  summarise,
  type MetricSummary,
  type MetricKey,
  type MetricValues,
  type StyleReference,
} from './pair-metrics';
import { reinhardTransfer } from './reinhard';
import { loadImage, METRIC_MAX_SIDE, resizeRgb, type RgbImage } from './rgb-image';
import { seededRandom } from './seeded-random';
import { createTextureNet, gramMatrices } from './texture-net';

/** Stylises one content file with one style file. The output may have any size. */
export type Stylizer = (contentFile: string, styleFile: string) => Promise<RgbImage>;

/** The rows of the result table, in order. */
export const METHODS = ['content', 'style', 'reinhard', 'peerstyle'] as const;

/** One row of the result table. */
export type Method = (typeof METHODS)[number];

/** Options for {@link runEval}. */
export interface EvalOptions {
  /** Content image files. */
  contentFiles: readonly string[];
  /** Style image files. */
  styleFiles: readonly string[];
  stylizer: Stylizer;
  /** Evaluate at most this many pairs, a seeded random subset of all of them. @default every pair */
  limit?: number;
  /** Seed of the pair subset (the metrics' own random quantities are fixed). @default 1 */
  seed?: number;
  /** Long side the images are brought down to for the metrics. @default METRIC_MAX_SIDE (256) */
  maxSide?: number;
  /** Pairs whose images are kept for the contact sheet. @default 8 */
  sheetPairs?: number;
  /** Called before each pair, for progress reports. */
  onPair?: (index: number, total: number, contentFile: string, styleFile: string) => void;
}

/** The figures of one pair. */
export interface PairResult {
  content: string;
  style: string;
  metrics: Record<Method, MetricValues>;
}

/** The images of one contact-sheet row, all at metric size. */
export interface SheetRow {
  content: string;
  style: string;
  images: Record<Method, RgbImage>;
}

/** Everything {@link runEval} measured. */
export interface EvalResult {
  pairs: PairResult[];
  /** Mean and standard deviation over pairs, per method and metric. */
  summary: Record<Method, Record<MetricKey, MetricSummary>>;
  contents: number;
  styles: number;
  maxSide: number;
  seed: number;
  sheet: SheetRow[];
}

/**
 * The pairs to evaluate, content-major: all of them, or a seeded random subset of `limit`, put back
 * in content-major order so that each content image is loaded once.
 */
export function selectPairs(
  contents: number,
  styles: number,
  limit: number | undefined,
  seed: number,
): [number, number][] {
  const all: [number, number][] = [];
  for (let c = 0; c < contents; c++) for (let s = 0; s < styles; s++) all.push([c, s]);
  if (limit === undefined || limit >= all.length) return all;
  const rng = seededRandom(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, limit).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Indices of up to `count` pairs spread evenly over `total`, so the sheet shows varied contents. */
function sheetIndices(total: number, count: number): Set<number> {
  const n = Math.min(total, count);
  return new Set(Array.from({ length: n }, (_, i) => Math.floor((i * total) / n)));
}

/** Runs the evaluation; see the file header. */
export async function runEval(options: EvalOptions): Promise<EvalResult> {
  const maxSide = options.maxSide ?? METRIC_MAX_SIDE;
  const seed = options.seed ?? 1;
  const { contentFiles, styleFiles } = options;
  const pairs = selectPairs(contentFiles.length, styleFiles.length, options.limit, seed);
  const keepForSheet = sheetIndices(pairs.length, options.sheetPairs ?? 8);
  const net = createTextureNet();
  // A content image is the content baseline of every pair it is in, and a style image already at the
  // content's size is its own style baseline: remember Gram matrices per image object.
  const gramCache = new WeakMap<RgbImage, Float64Array[]>();
  const gramsOf = (image: RgbImage): Float64Array[] => {
    let grams = gramCache.get(image);
    if (!grams) {
      grams = gramMatrices(net, image);
      gramCache.set(image, grams);
    }
    return grams;
  };

  const styleCache = new Map<number, { image: RgbImage; ref: StyleReference }>();
  const styleAt = async (s: number): Promise<{ image: RgbImage; ref: StyleReference }> => {
    let entry = styleCache.get(s);
    if (!entry) {
      const image = await loadImage(styleFiles[s], maxSide);
      entry = { image, ref: styleReference(net, image) };
      gramCache.set(image, entry.ref.grams);
      styleCache.set(s, entry);
    }
    return entry;
  };

  const results: PairResult[] = [];
  const sheet: SheetRow[] = [];
  let current: { index: number; image: RgbImage; ref: ContentReference } | undefined;
  for (const [i, [c, s]] of pairs.entries()) {
    options.onPair?.(i, pairs.length, contentFiles[c], styleFiles[s]);
    if (current?.index !== c) {
      const image = await loadImage(contentFiles[c], maxSide);
      current = { index: c, image, ref: contentReference(image) };
    }
    const content = current;
    const style = await styleAt(s);
    const { width, height } = content.image;
    const images: Record<Method, RgbImage> = {
      content: content.image,
      style: await resizeRgb(style.image, width, height),
      reinhard: reinhardTransfer(content.image, style.image),
      peerstyle: await resizeRgb(await options.stylizer(contentFiles[c], styleFiles[s]), width, height),
    };
    const metrics = {} as Record<Method, MetricValues>;
    for (const method of METHODS)
      metrics[method] = measurePair(net, images[method], content.ref, style.ref, gramsOf(images[method]));
    const names = { content: path.basename(contentFiles[c]), style: path.basename(styleFiles[s]) };
    results.push({ ...names, metrics });
    if (keepForSheet.has(i)) sheet.push({ ...names, images });
  }

  const summary = {} as EvalResult['summary'];
  for (const method of METHODS) summary[method] = summarise(results.map((r) => r.metrics[method]));
  return {
    pairs: results,
    summary,
    contents: new Set(pairs.map(([c]) => c)).size,
    styles: new Set(pairs.map(([, s]) => s)).size,
    maxSide,
    seed,
    sheet,
  };
}
