/**
 * The stylisation engine: content and style images in, a stylised image out, through a model package's
 * three graphs. Steps: decode and check the images (image-io.ts), size them to multiples of 4 (the
 * encoder halves twice), encode each to a latent, flatten the style latents into peer rows (weight-0
 * styles left out of the kNN entirely, the others tagged with log(weight)), run TPFR on chunks of content
 * rows against all peers (rows are independent in inference, so chunking bounds the N×M matrices without
 * changing the result), blend with the content's own latent by `strength`, decode (with the colour head,
 * when the model has one: colour-head.ts), optionally restore the content's colours, and resample to the
 * requested size. Above `tileAbovePixels`, the encoder and
 * decoder run in tiles with exact whole-image statistics (tiled-runner.ts) when the package has the
 * tiled graphs, so their full-resolution activations never exist at once.
 *
 * Sessions are loaded once per package directory per process and shared by every engine over it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { latentChannels } from '../../trainer/config';
import { DECODER_IO, ENCODER_IO, TILED_STYLE_CONDITION, TPFR_IO } from '../../trainer/export/package-format';
import { must } from '../core/must';
import type { EncodedImage, StylizeProgress } from '../core/ports/stylize-engine';
import {
  DEFAULT_QUALITY,
  isRenderScale,
  QUALITY_RANGE,
  RENDER_SCALE_RANGE,
  STRUCTURE_MODES,
  type StructureMode,
  type StylizeOptions,
} from '../core/stylize-input';

export { STRUCTURE_MODES, type StructureMode };
import { outputColourStep } from './output-colour';
import { EngineError } from './engine-error';
import {
  DEFAULT_LIMITS,
  encodeImage,
  OUTPUT_FORMATS,
  preserveColour,
  readImage,
  resizeRgb,
  type ImageLimits,
  type OutputFormat,
  type RgbImage,
} from './image-io';
import { closeModelPackage, loadModelPackage, type ModelManifest, type ModelPackage } from './model-package';
import { defaultIntraOpThreads, nchw, run, type ExecutionProvider, type FloatTensor } from './onnx-session';
import { decoderFeeds, styleCondition } from './style-condition';
import { applyGlobalStyle, runStaged } from './tiled-runner';

/** Options for {@link createEngine}. */
export interface EngineOptions {
  /** A model package folder (see `peerstyle export`). */
  modelDir: string;
  /**
   * Threads per onnxruntime operator. Lower it where several engines share a machine, or in Lambda,
   * whose vCPU count is below the host's. @default os.availableParallelism() (every core this process may use)
   */
  intraOpThreads?: number;
  /** 'cuda' is tried first and falls back to the CPU with a notice. @default 'cpu' */
  executionProvider?: ExecutionProvider;
  /** Input limits, checked from the header. @default 4096 px long side, 16.7 MP */
  limits?: Partial<ImageLimits>;
  /**
   * Content rows per TPFR call. Unset: as many as keep the rows × peers matrices near 16M entries.
   */
  tpfrChunkRows?: number;
  /**
   * Images with more working pixels than this run the encoder and decoder in tiles with exact
   * whole-image statistics (when the package has the tiled graphs), bounding their memory.
   * @default 1_048_576 (1024 × 1024)
   */
  tileAbovePixels?: number;
  /** Interior side of a tile in image pixels, a multiple of 4. @default 512 */
  tileSize?: number;
}

/** One style exemplar. */
export interface StyleInput {
  image: Buffer | string;
  /** Relative weight ≥ 0; 0 leaves the style out. @default 1 */
  weight?: number;
}

/**
 * Progress of one request, in the stylize port's shape: the current stage and the fraction of the whole
 * request done. The stage 'preview' (only when the request asks for one) carries a small rendering,
 * before the full image.
 */
export interface Progress extends StylizeProgress {
  stage: 'read' | 'encode' | 'preview' | 'transfer' | 'render' | 'write';
  /** With stage 'preview': the small rendering, encoded. */
  preview?: Preview;
}

/** An early, small rendering of the result. */
export interface Preview extends EncodedImage {
  image: Buffer;
  format: 'jpeg';
}

/** The preview's long side when a request asks for one with `preview: true`. */
export const DEFAULT_PREVIEW_SIDE = 512;

/**
 * A stylisation request: the platform's stylize options (functions/core/stylize-input.ts, where each is
 * described), every one optional, plus what only the engine offers. Left out, `format` is 'png' here
 * (the API's jobs default to JPEG), and `styleSize` is the package's `defaults.styleSize`, else the
 * content's working long side capped at the paper's 512 px test size, since peers cost time in
 * proportion to their count.
 */
export interface StylizeRequest extends Partial<Omit<StylizeOptions, 'preview'>> {
  content: Buffer | string;
  styles: StyleInput[];
  /**
   * Deliver a small rendering first, as a 'preview' progress event: `true` for a long side of
   * {@link DEFAULT_PREVIEW_SIDE} px, or the long side in px. Larger outputs render it untiled before the
   * full-size work (seconds even at 4096 px); outputs no larger than it get the result itself as the
   * preview, just before it is written. @default no preview
   */
  preview?: boolean | number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** The encoded image and its size. */
export interface StylizeResult extends EncodedImage {
  image: Buffer;
}

/** A stylisation engine over one model package. */
export interface Engine {
  readonly manifest: ModelManifest;
  /** Where the graphs run. */
  readonly provider: ExecutionProvider;
  /** Why the requested provider was not used, when it was not. */
  readonly notice?: string;
  stylize(request: StylizeRequest): Promise<StylizeResult>;
  /** Releases this engine; the package's sessions close with the last engine over them. */
  close(): Promise<void>;
}

/** Loaded packages by directory and session options, with the number of open engines over each. */
const packages = new Map<string, { pkg: Promise<ModelPackage>; users: number }>();

/** Opens (or reuses) the package's sessions and returns an engine over them. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const threads = options.intraOpThreads ?? defaultIntraOpThreads();
  const key = `${path.resolve(options.modelDir)}|${threads}|${options.executionProvider ?? 'cpu'}`;
  let entry = packages.get(key);
  if (!entry) {
    const pending = loadModelPackage(options.modelDir, {
      intraOpThreads: threads,
      executionProvider: options.executionProvider,
    });
    entry = { pkg: pending, users: 0 };
    packages.set(key, entry);
    // A failed load is not cached, so a repaired package can be retried.
    pending.catch(() => packages.delete(key));
  }
  const pkg = await entry.pkg;
  entry.users++;
  const limits: ImageLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const { provider, notice } = pkg.sessions.encoder;
  let open = true;
  return {
    manifest: pkg.manifest,
    provider,
    notice,
    stylize: (request) => {
      if (!open) return Promise.reject(new EngineError('BAD_OPTION', 'This engine is closed; create a new one.'));
      return stylizeWith(pkg, limits, options, request);
    },
    close: async () => {
      if (!open) return;
      open = false;
      // The sessions are released when the last engine over them closes.
      if (--entry.users === 0 && packages.get(key) === entry) {
        packages.delete(key);
        await closeModelPackage(pkg);
      }
    },
  };
}

/**
 * Runs the engine and writes the image to `outPath` only on success: to a temporary file in the same
 * folder first, then renamed into place, so a failure or cancellation never leaves a partial file.
 */
export async function stylizeFile(engine: Engine, request: StylizeRequest, outPath: string): Promise<StylizeResult> {
  const result = await engine.stylize(request);
  const tmp = path.join(path.dirname(outPath), `.${path.basename(outPath)}.tmp-${process.pid}`);
  await fs.writeFile(tmp, result.image);
  await fs.rename(tmp, outPath);
  return result;
}

/** The smallest working side: the encoder's residual blocks reflect-pad their latent by one pixel. */
const MIN_SIDE = 16;
/** Default cap on the style images' long side (the official code tests at 512 px). */
const DEFAULT_MAX_STYLE_SIDE = 512;
/**
 * Target size of one TPFR call's rows × peers matrices (the distances, ~64 MB at this size). The graph's
 * attention works on a window of nearest peers, so the distances and TopK are its only rows × peers
 * work; the per-call cost is the peer-side MLP and norms over all M peers, which larger chunks amortise.
 * Measured at 512² content and style (`small`): 1k-row chunks were ~15% faster than 512, 2k no better
 * than 1k within the noise of a shared machine.
 */
const TPFR_MATRIX_ENTRIES = 16_000_000;

async function stylizeWith(
  pkg: ModelPackage,
  limits: ImageLimits,
  engineOptions: EngineOptions,
  request: StylizeRequest,
): Promise<StylizeResult> {
  const opts = validate(request, limits);
  const check = (): void => {
    if (request.signal?.aborted) throw new EngineError('CANCELLED', 'The stylisation was cancelled.');
  };
  const tiling = tilingFor(pkg, engineOptions, check);
  const report = (stage: Progress['stage'], progress: number): void => {
    check();
    request.onProgress?.({ stage, progress });
  };
  report('read', 0);
  const content = await readImage(request.content, 'content', limits);
  const out = scaleToLongSide(content.width, content.height, opts.size);
  const scale = renderScaleWithin(out, opts.renderScale ?? pkg.manifest.defaults?.renderScale ?? 1, limits);
  const work = workingSize(out.width * scale, out.height * scale);
  const contentWork = await resizeRgb(content, work.width, work.height);
  const active = opts.styles.filter((s) => s.weight > 0);
  const styleImages: RgbImage[] = [];
  for (const [i, style] of active.entries()) {
    const img = await readImage(style.image, `style ${opts.styles.indexOf(style) + 1}`, limits);
    const target = scaleToLongSide(
      img.width,
      img.height,
      opts.styleSize ??
        pkg.manifest.defaults?.styleSize ??
        Math.min(DEFAULT_MAX_STYLE_SIDE, Math.max(out.width, out.height)),
    );
    const size = workingSize(target.width, target.height);
    styleImages.push(await resizeRgb(img, size.width, size.height));
    report('read', (0.1 * (i + 1)) / active.length);
  }

  report('encode', 0.1);
  // The styles first: their peers serve the preview as well as the full image.
  let peers: Float32Array[] = [];
  const logWeights: number[] = [];
  for (const [i, img] of styleImages.entries()) {
    const rows = toRows(await encodeLatent(pkg, img, tiling));
    peers.push(rows.data);
    const { weight } = must(active[i], `the weight of style ${i + 1}`);
    const positions = must(rows.dims[0], 'the row count of a style latent');
    for (let r = 0; r < positions; r++) logWeights.push(Math.log(weight));
    report('encode', 0.1 + (0.1 * (i + 1)) / styleImages.length);
  }
  const peerRows: FloatTensor = {
    data: concat(peers),
    dims: [logWeights.length, latentChannels(pkg.manifest.config).total],
  };
  peers = [];
  if (logWeights.length < pkg.manifest.config.knn) {
    throw new EngineError(
      'BAD_OPTION',
      `The style images give ${logWeights.length} positions; the model needs at least ${pkg.manifest.config.knn}. Use a larger --style-size.`,
    );
  }
  // With structure 'keep', the content channels of the latent stay the content's own (stage 1 only).
  const structure = opts.structure ?? pkg.manifest.defaults?.structure ?? 'transfer';
  const transfer: Transfer = {
    peerRows,
    logWeight: { data: Float32Array.from(logWeights), dims: [logWeights.length] },
    strength: opts.strength,
    firstChannel: structure === 'keep' ? latentChannels(pkg.manifest.config).content : 0,
    chunkRows: engineOptions.tpfrChunkRows,
  };
  const colourStep = outputColourStep(
    pkg.manifest,
    contentWork,
    styleImages.map((image, i) => ({ image, weight: must(active[i], `the weight of style ${i + 1}`).weight })),
    opts.strength,
  );
  // Read once, so that the preview and the full image are rendered with the same condition.
  const condition = await conditionAtSide(pkg, contentWork, transfer);
  const render = async (latent: FloatTensor, contentRgb: RgbImage): Promise<RgbImage> => {
    const decoded = colourStep(await decodeLatent(pkg, latent, tiling, condition));
    const styled = toRgb(decoded);
    return opts.preserveColor ? preserveColour(styled, contentRgb) : styled;
  };

  const previewSide = opts.preview;
  const previewOf = async (rgb: RgbImage): Promise<void> => {
    const image = await encodeImage(rgb, 'jpeg', PREVIEW_QUALITY);
    check();
    request.onProgress?.({
      stage: 'preview',
      progress: 0.2,
      preview: { image, width: rgb.width, height: rgb.height, format: 'jpeg' },
    });
  };
  if (previewSide !== undefined && Math.max(out.width, out.height) > previewSide) {
    // A small rendering first, untiled and with the same peers: seconds, whatever the content's size.
    const small = scaleToLongSide(out.width, out.height, previewSide);
    const smallWork = workingSize(small.width, small.height);
    const smallContent = await resizeRgb(contentWork, smallWork.width, smallWork.height);
    const latent = await encodeLatent(pkg, smallContent, undefined);
    await transferLatent(pkg, latent, transfer);
    await previewOf(await resizeRgb(await render(latent, smallContent), small.width, small.height));
  }

  const contentLatent = await encodeLatent(pkg, contentWork, tiling);
  report('encode', 0.3);
  // TPFR works on rows [h·w, C]; the latent is [1, C, h, w]: transformed in place, chunk by chunk.
  await transferLatent(pkg, contentLatent, transfer, (done) => report('transfer', 0.3 + 0.5 * done));

  report('render', 0.8);
  const final = await resizeRgb(await render(contentLatent, contentWork), out.width, out.height);
  if (previewSide !== undefined && Math.max(out.width, out.height) <= previewSide) {
    // Small enough to render at once: the preview is the result itself, announced just before it.
    await previewOf(final);
  }
  report('write', 0.95);
  const image = await encodeImage(final, opts.format, opts.quality);
  report('write', 1);
  return { image, width: final.width, height: final.height, format: opts.format };
}

/** JPEG quality of previews: small enough for a progress event (tens of kB at 512 px). */
const PREVIEW_QUALITY = 80;

/** What TPFR needs besides the content: the style peers and how to blend. */
interface Transfer {
  peerRows: FloatTensor;
  logWeight: FloatTensor;
  strength: number;
  firstChannel: number;
  chunkRows?: number;
}

/**
 * Recombines the content latent [1, C, h, w] in place: each chunk's rows are gathered from the latent,
 * run through TPFR against every peer, and written back (blended by strength) over the same positions,
 * which no later chunk reads, so no whole-size row-major copy exists beside the latent.
 */
async function transferLatent(
  pkg: ModelPackage,
  latent: FloatTensor,
  t: Transfer,
  onChunk?: (fractionDone: number) => void,
): Promise<void> {
  if (t.strength <= 0) return;
  const [, channels, h, w] = nchw(latent);
  const n = h * w;
  const chunk = tpfrChunkRows(must(t.peerRows.dims[0], 'the peer count'), t.chunkRows);
  const rows = new Float32Array(Math.min(chunk, n) * channels);
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    gatherRows(latent.data, n, channels, start, end, rows);
    const result = await run(pkg.sessions.tpfr, {
      [TPFR_IO.content]: { data: rows.subarray(0, (end - start) * channels), dims: [end - start, channels] },
      [TPFR_IO.peers]: t.peerRows,
      [TPFR_IO.peerLogWeight]: t.logWeight,
    });
    const output = must(result[TPFR_IO.output], 'the TPFR output');
    scatterRows(output.data, latent.data, n, channels, start, end, t.strength, t.firstChannel);
    onChunk?.(end / n);
  }
}

/** Content rows per TPFR call against `peers` peer rows: `chunkRows` when set, else the default size. */
export function tpfrChunkRows(peers: number, chunkRows?: number): number {
  return Math.max(1, chunkRows ?? Math.floor(TPFR_MATRIX_ENTRIES / peers));
}

interface ValidOptions {
  strength: number;
  preserveColor: boolean;
  structure?: StructureMode;
  size?: number;
  styleSize?: number;
  renderScale?: number;
  format: OutputFormat;
  quality: number;
  preview?: number;
  styles: { image: Buffer | string; weight: number }[];
}

/** Checks every option and reports the first problem with the valid range. */
function validate(r: StylizeRequest, limits: ImageLimits): ValidOptions {
  const bad = (message: string): never => {
    throw new EngineError('BAD_OPTION', message);
  };
  const strength = r.strength ?? 1;
  if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1))
    bad(`strength must be between 0 and 1, got ${String(r.strength)}.`);
  const format = r.format ?? 'png';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format))
    bad(`Unknown format "${String(format)}". Expected one of: ${OUTPUT_FORMATS.join(', ')}.`);
  const quality = r.quality ?? DEFAULT_QUALITY;
  const [minQuality, maxQuality] = QUALITY_RANGE;
  if (!(Number.isInteger(quality) && quality >= minQuality && quality <= maxQuality))
    bad(`quality must be a whole number from ${minQuality} to ${maxQuality}, got ${r.quality}.`);
  for (const [name, value] of [
    ['size', r.size],
    ['styleSize', r.styleSize],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= MIN_SIDE && value <= limits.maxLongSide)) {
      bad(`${name} must be a whole number of pixels from ${MIN_SIDE} to ${limits.maxLongSide}, got ${value}.`);
    }
  }
  if (r.renderScale !== undefined && !isRenderScale(r.renderScale))
    bad(
      `renderScale must be a number from ${RENDER_SCALE_RANGE[0]} to ${RENDER_SCALE_RANGE[1]}, got ${String(r.renderScale)}.`,
    );
  const preview = r.preview === true ? DEFAULT_PREVIEW_SIDE : r.preview === false ? undefined : r.preview;
  if (preview !== undefined && !(Number.isInteger(preview) && preview >= MIN_SIDE && preview <= limits.maxLongSide)) {
    bad(`preview must be true or a whole number of pixels from ${MIN_SIDE} to ${limits.maxLongSide}, got ${preview}.`);
  }
  if (!Array.isArray(r.styles) || r.styles.length === 0) bad('At least one style image is needed.');
  const styles = r.styles.map((s, i) => {
    const weight = s.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
      bad(`The weight of style ${i + 1} must be a number ≥ 0, got ${String(s.weight)}.`);
    return { image: s.image, weight };
  });
  if (!styles.some((s) => s.weight > 0)) bad('At least one style needs a weight above 0.');
  if (r.structure !== undefined && !(STRUCTURE_MODES as readonly string[]).includes(r.structure))
    bad(`Unknown structure "${String(r.structure)}". Expected one of: ${STRUCTURE_MODES.join(', ')}.`);
  return {
    strength,
    preserveColor: r.preserveColor ?? false,
    structure: r.structure,
    size: r.size,
    styleSize: r.styleSize,
    renderScale: r.renderScale,
    format: format as OutputFormat,
    quality,
    preview,
    styles,
  };
}

/** The size with the long side set to `longSide` (unchanged when it is undefined), aspect kept. */
function scaleToLongSide(
  width: number,
  height: number,
  longSide: number | undefined,
): { width: number; height: number } {
  if (longSide === undefined) return { width, height };
  const scale = longSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * The render scale asked for, lowered where the working image would pass the engine's image limits
 * (a 4096 px output renders at its own size), never below 1.
 */
function renderScaleWithin(out: { width: number; height: number }, scale: number, limits: ImageLimits): number {
  const bySide = limits.maxLongSide / Math.max(out.width, out.height);
  const byPixels = Math.sqrt(limits.maxPixels / (out.width * out.height));
  return Math.max(1, Math.min(scale, bySide, byPixels));
}

/** The nearest multiple of 4 of each side, at least {@link MIN_SIDE}. */
function workingSize(width: number, height: number): { width: number; height: number } {
  const side = (v: number): number => Math.max(MIN_SIDE, Math.round(v / 4) * 4);
  return { width: side(width), height: side(height) };
}

/** How to tile large images, when the package allows it. */
interface Tiling {
  abovePixels: number;
  size: number;
  check: () => void;
}

function tilingFor(pkg: ModelPackage, options: EngineOptions, check: () => void): Tiling | undefined {
  if (!pkg.tiled || !pkg.manifest.tiling) return undefined;
  const size = options.tileSize ?? 512;
  if (!Number.isInteger(size) || size < 16 || size % 4 !== 0) {
    throw new EngineError('BAD_OPTION', `tileSize must be a multiple of 4 of at least 16 pixels, got ${size}.`);
  }
  return { abovePixels: options.tileAbovePixels ?? 1024 * 1024, size, check };
}

/** Image → latent [1, 12ngf, H/4, W/4], whole or in tiles. */
async function encodeLatent(pkg: ModelPackage, image: RgbImage, tiling: Tiling | undefined): Promise<FloatTensor> {
  if (tiling && pkg.tiled && pkg.staged && image.width * image.height > tiling.abovePixels) {
    // The input is not held here, so the runner can release it once the first stage's result is kept.
    const raw = await runStaged(pkg.staged.encoder, toNchw(image), {
      tile: tiling.size,
      align: 4,
      check: tiling.check,
    });
    return applyGlobalStyle(pkg.tiled.global, raw, latentChannels(pkg.manifest.config));
  }
  const outputs = await run(pkg.sessions.encoder, { [ENCODER_IO.image]: toNchw(image) });
  return must(outputs[ENCODER_IO.latent], 'the encoder output');
}

/**
 * The style condition of a package that reads it at a fixed size (`defaults.conditionSide`): the
 * content resized to the area of a square of that side, aspect kept, encoded and recombined with the
 * same peers and strength as the image itself, and its statistics taken. Undefined for every other
 * package: its decoder reads the condition from the latent it renders.
 */
async function conditionAtSide(
  pkg: ModelPackage,
  content: RgbImage,
  transfer: Transfer,
): Promise<FloatTensor | undefined> {
  const side = pkg.manifest.defaults?.conditionSide;
  if (side === undefined) return undefined;
  const scale = side / Math.sqrt(content.width * content.height);
  const size = workingSize(content.width * scale, content.height * scale);
  const latent = await encodeLatent(pkg, await resizeRgb(content, size.width, size.height), undefined);
  await transferLatent(pkg, latent, transfer);
  return styleCondition(pkg.manifest.config, latent);
}

/**
 * Latent → image [1, 3, H, W] in [-1, 1], whole or in tiles. A tiled decode consumes `latent` (leaves
 * it empty): at 4096 px it is 768 MiB that only the decoder's first pass reads. A given `condition`
 * replaces the one a modulated decoder would read from `latent`.
 */
async function decodeLatent(
  pkg: ModelPackage,
  latent: FloatTensor,
  tiling: Tiling | undefined,
  condition?: FloatTensor,
): Promise<FloatTensor> {
  const [, , h, w] = nchw(latent);
  const pixels = h * w * 16;
  const tiled = tiling !== undefined && pixels > tiling.abovePixels;
  // A package whose whole-image decoder computes its condition itself renders a given one in one tile.
  const wholeTakesCondition = pkg.sessions.decoder.inputNames.includes(TILED_STYLE_CONDITION);
  if (pkg.staged && (tiled || (condition !== undefined && !wholeTakesCondition))) {
    // Computed before the runner consumes the latent: no tile holds the whole of it.
    const constants = pkg.manifest.config.styleModulation
      ? { [TILED_STYLE_CONDITION]: condition ?? styleCondition(pkg.manifest.config, latent) }
      : undefined;
    return runStaged(pkg.staged.decoder, latent, {
      tile: tiled ? must(tiling, 'the tiling').size / 4 : Math.max(h, w),
      align: 1,
      consumeInput: true,
      constants,
      check: tiling?.check ?? ((): void => undefined),
    });
  }
  const outputs = await run(
    pkg.sessions.decoder,
    decoderFeeds(pkg.sessions.decoder, pkg.manifest.config, latent, condition),
  );
  return must(outputs[DECODER_IO.image], 'the decoder output');
}

/** RGB bytes (HWC) → [1, 3, H, W] in [-1, 1]. */
export function toNchw(image: RgbImage): FloatTensor {
  const plane = image.width * image.height;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = image.data[3 * p + c]! / 127.5 - 1;
  return { data, dims: [1, 3, image.height, image.width] };
}

/** [1, 3, H, W] in [-1, 1] → RGB bytes (HWC). */
export function toRgb(t: FloatTensor): RgbImage {
  const [, , height, width] = nchw(t);
  const plane = width * height;
  const data = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++)
      data[3 * p + c] = Math.min(255, Math.max(0, Math.round((t.data[c * plane + p]! + 1) * 127.5)));
  }
  return { data, width, height };
}

/** Latent [1, C, h, w] → rows [h·w, C], as TPFR takes content and peers. */
export function toRows(t: FloatTensor): FloatTensor {
  const [, c, h, w] = nchw(t);
  const plane = h * w;
  const data = new Float32Array(t.data.length);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) data[p * c + ch] = t.data[ch * plane + p]!;
  return { data, dims: [plane, c] };
}

/** Copies positions [start, end) of a [C, n] plane-major latent into `out` as rows [end − start, C]. */
function gatherRows(latent: Float32Array, n: number, c: number, start: number, end: number, out: Float32Array): void {
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * n;
    for (let p = start; p < end; p++) out[(p - start) * c + ch] = latent[plane + p]!;
  }
}

/**
 * Writes channels [firstChannel, C) of rows [end − start, C] back over positions [start, end) of the
 * latent, as (1 − t)·old + t·new; t = 1 stores the rows exactly. Channels before firstChannel keep
 * their old values.
 */
function scatterRows(
  rows: Float32Array,
  latent: Float32Array,
  n: number,
  c: number,
  start: number,
  end: number,
  t: number,
  firstChannel: number,
): void {
  for (let ch = firstChannel; ch < c; ch++) {
    const plane = ch * n;
    for (let p = start; p < end; p++) {
      const value = rows[(p - start) * c + ch]!;
      latent[plane + p] = t === 1 ? value : (1 - t) * latent[plane + p]! + t * value;
    }
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
