/**
 * The evaluation itself: every selected content × style pair is stylised through an injected
 * {@link Stylizer} and measured next to three baselines computed in the same run, so the figures of a
 * model always come with the reference points that give them meaning:
 *
 * - `content`: the content image unchanged (all content, no style);
 * - `style`: the style image resized to the content's size (all style, no content);
 * - `reinhard`: the content recoloured with the style's Lab statistics (colour only, no texture);
 * - `peerstyle`: the stylizer's output, asked for at the content's scoring size (resized to it only
 *   when the stylizer returns another size).
 *
 * Beside them, the rendering-fidelity figures (fidelity.ts): each content image is stylised once more
 * at strength 0 and compared with itself (PSNR), and the grid score (grid-score.ts) of every
 * Peerstyle and Reinhard output and of every reconstruction is taken against its content. Contents and
 * outputs are scored at one size, without resampling the output, since any resampling would smear the
 * very 2- and 4-pixel patterns the grid score looks for.
 *
 * Last, style identification (style-identification.ts): every image of every pair is compared by
 * texture with all the run's style images, which is why it waits until every style has been read.
 *
 * The stylizer is a plain function of two file paths, so this module knows nothing about the engine
 * and is tested with stylizers defined in the tests.
 */
import path from 'node:path';
import { must } from '../core/must';
import {
  countedSummary,
  summariseFidelity,
  type CountedSummary,
  type FidelitySummary,
  type ReconstructionResult,
} from './fidelity';
import { gridScore, peakProminence, GRID_MIN_SIDE } from './grid-score';
import { luminance } from './luminance';
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
import { capPsnr, psnrLuma, psnrRgb } from './psnr';
import { loadImage, loadImageAt, METRIC_MAX_SIDE, resizeRgb, type RgbImage } from './rgb-image';
import { seededRandom } from './seeded-random';
import { canIdentify, identificationScore, textureSignature, type TextureSignature } from './style-identification';
import { createTextureNet, gramMatrices } from './texture-net';

/** How a {@link Stylizer} is asked to render. */
export interface StylizeOptions {
  /** 0 = the content's reconstruction, 1 = the full transfer. @default the stylizer's own (1 for the engine) */
  strength?: number;
  /** Long side of the output in pixels. @default the content's own size */
  size?: number;
}

/**
 * Stylises one content file with one style file. The output should have the size asked for (the
 * content's own when `size` is not given); one of another size is resized to it, at a cost to the grid
 * score's meaning, and counted in the run's notes.
 */
export type Stylizer = (contentFile: string, styleFile: string, options?: StylizeOptions) => Promise<RgbImage>;

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
  /**
   * Long side, in pixels, the contents are scored at and the outputs are rendered at (up or down).
   * Style images are read at a long side of at most this. @default each content's own size, and style
   * images at most METRIC_MAX_SIDE (256)
   */
  size?: number;
  /** Pairs whose images are kept for the contact sheet. @default 8 */
  sheetPairs?: number;
  /** Called before each pair, for progress reports. */
  onPair?: (index: number, total: number, contentFile: string, styleFile: string) => void;
  /** Called before each strength-0 reconstruction, for progress reports. */
  onReconstruction?: (index: number, total: number, contentFile: string) => void;
}

/** The figures of one pair. */
export interface PairResult {
  content: string;
  style: string;
  metrics: Record<Method, MetricValues>;
  /** Grid scores against the content (grid-score.ts); null when the image is too small or flat to score. */
  gridScore: { reinhard: number | null; peerstyle: number | null };
  /**
   * Style identification of each image (style-identification.ts); null when the run has one style or
   * the image or its style is too small to compare.
   */
  identification: Record<Method, number | null>;
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
  /** Rendering fidelity: reconstruction PSNR and grid scores, summarised, with their targets. */
  fidelity: FidelitySummary;
  /** Style identification per method, over the pairs that have a score. */
  identification: Record<Method, CountedSummary>;
  /** One per content image of the run, in run order. */
  reconstructions: ReconstructionResult[];
  contents: number;
  styles: number;
  /** The long side contents were scored at; undefined: each at its own size. */
  size: number | undefined;
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
    [all[i], all[j]] = [all[j]!, all[i]!];
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
  const size = options.size;
  const styleSide = size ?? METRIC_MAX_SIDE;
  const seed = options.seed ?? 1;
  const { contentFiles, styleFiles } = options;
  const pairs = selectPairs(contentFiles.length, styleFiles.length, options.limit, seed);
  const contentCount = new Set(pairs.map(([c]) => c)).size;
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
  const styleSignatures = new Map<number, TextureSignature>();
  const styleAt = async (s: number, file: string): Promise<{ image: RgbImage; ref: StyleReference }> => {
    let entry = styleCache.get(s);
    if (!entry) {
      const image = await loadImage(file, styleSide);
      entry = { image, ref: styleReference(net, image) };
      gramCache.set(image, entry.ref.grams);
      styleCache.set(s, entry);
      if (canIdentify(image)) styleSignatures.set(s, textureSignature(net, image));
    }
    return entry;
  };
  // The content image is the content baseline of each of its pairs: its signature is taken once.
  const signatureCache = new WeakMap<RgbImage, TextureSignature | null>();
  const signatureOf = (image: RgbImage): TextureSignature | null => {
    let signature = signatureCache.get(image);
    if (signature === undefined) {
      signature = canIdentify(image) ? textureSignature(net, image) : null;
      signatureCache.set(image, signature);
    }
    return signature;
  };
  const pairSignatures: { style: number; signatures: Record<Method, TextureSignature | null> }[] = [];

  // Outputs that came back at another size than asked, and images too small for the grid score.
  let resized = 0;
  const tooSmall = new Set<string>();
  const flat = new Set<string>();
  const toContentSize = async (output: RgbImage, content: RgbImage): Promise<RgbImage> => {
    if (output.width === content.width && output.height === content.height) return output;
    resized++;
    return resizeRgb(output, content.width, content.height);
  };
  const gridOf = (image: RgbImage, prominence: number | undefined): number | null =>
    gridScore(luminance(image), prominence) ?? null;

  const results: PairResult[] = [];
  const reconstructions: ReconstructionResult[] = [];
  const sheet: SheetRow[] = [];
  let current: { index: number; image: RgbImage; ref: ContentReference; prominence?: number } | undefined;
  for (const [i, [c, s]] of pairs.entries()) {
    const contentFile = must(contentFiles[c], `content file ${c + 1}`);
    const styleFile = must(styleFiles[s], `style file ${s + 1}`);
    if (current?.index !== c) {
      const image = await loadImageAt(contentFile, size);
      const ref = contentReference(image);
      const name = path.basename(contentFile);
      const prominence = peakProminence(ref.luma);
      if (prominence === undefined) tooSmall.add(name);
      else if (!(prominence > 0 && Number.isFinite(prominence))) flat.add(name);
      current = { index: c, image, ref, prominence };
      // Each content once, at strength 0, with the first style it is paired with (the engine needs one;
      // at strength 0 it should not matter which).
      options.onReconstruction?.(reconstructions.length, contentCount, contentFile);
      const rendered = await options.stylizer(contentFile, styleFile, { strength: 0, size });
      const recon = await toContentSize(rendered, image);
      reconstructions.push({
        content: name,
        style: path.basename(styleFile),
        psnrLuma: capPsnr(psnrLuma(recon, image)),
        psnrRgb: capPsnr(psnrRgb(recon, image)),
        gridScore: gridOf(recon, prominence),
      });
    }
    options.onPair?.(i, pairs.length, contentFile, styleFile);
    const content = current;
    const style = await styleAt(s, styleFile);
    const { width, height } = content.image;
    const images: Record<Method, RgbImage> = {
      content: content.image,
      style: await resizeRgb(style.image, width, height),
      reinhard: reinhardTransfer(content.image, style.image),
      peerstyle: await toContentSize(await options.stylizer(contentFile, styleFile, { size }), content.image),
    };
    const metrics = {} as Record<Method, MetricValues>;
    for (const method of METHODS)
      metrics[method] = measurePair(net, images[method], content.ref, style.ref, gramsOf(images[method]));
    const gridScores = {
      reinhard: gridOf(images.reinhard, content.prominence),
      peerstyle: gridOf(images.peerstyle, content.prominence),
    };
    const signatures = {} as Record<Method, TextureSignature | null>;
    for (const method of METHODS) signatures[method] = signatureOf(images[method]);
    pairSignatures.push({ style: s, signatures });
    const names = { content: path.basename(contentFile), style: path.basename(styleFile) };
    const identification = { content: null, style: null, reinhard: null, peerstyle: null };
    results.push({ ...names, metrics, gridScore: gridScores, identification });
    if (keepForSheet.has(i)) sheet.push({ ...names, images });
  }

  const notes: string[] = [];
  if (tooSmall.size) {
    notes.push(
      `No grid score for ${tooSmall.size} content image(s) under ${GRID_MIN_SIDE} px on the short side ` +
        `(${[...tooSmall].join(', ')}) nor for their outputs.`,
    );
  }
  if (flat.size) notes.push(`No grid score for the flat content image(s) ${[...flat].join(', ')} nor their outputs.`);
  if (resized) {
    notes.push(
      `${resized} output(s) came back at another size than asked and were resized to their content's: ` +
        'resampling smears the patterns the grid score measures.',
    );
  }
  for (const [i, { style, signatures }] of pairSignatures.entries()) {
    const result = must(results[i], `pair ${i + 1}`);
    for (const method of METHODS)
      result.identification[method] = identificationScore(signatures[method], styleSignatures, style);
  }
  const summary = {} as EvalResult['summary'];
  for (const method of METHODS) summary[method] = summarise(results.map((r) => r.metrics[method]));
  const identification = {} as EvalResult['identification'];
  for (const method of METHODS) identification[method] = countedSummary(results.map((r) => r.identification[method]));
  return {
    pairs: results,
    summary,
    fidelity: summariseFidelity(
      reconstructions,
      results.map((r) => r.gridScore),
      notes,
    ),
    identification,
    reconstructions,
    contents: contentCount,
    styles: new Set(pairs.map(([, s]) => s)).size,
    size,
    seed,
    sheet,
  };
}
