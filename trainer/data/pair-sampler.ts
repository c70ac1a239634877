/**
 * Serves the trainer one batch of augmented training pairs per iteration, in an order fixed by the seed
 * and resumable from a checkpoint.
 *
 * Each batch row holds the four images of the reference's `set_input`: `realA` (a photo), `styleA`
 * (another photo), `realB` (a style image of class c) and `styleB` (another image of class c; in a flat
 * style folder, or a class of one image, a second random crop of the same image).
 *
 * Order. Photos are visited in a shuffled order that is reshuffled every epoch (one epoch = every photo
 * once as `realA`). Style classes are visited the same way with their own epoch counter, so every class
 * serves as c equally often, as in the reference, which picks the painter before the painting. Each
 * epoch's permutation is regenerated from `(seed, epoch)`, so the resumable state is only a few numbers:
 * the generator state for the per-sample choices (partner photo, images within the class, augmentation),
 * and the epoch and position of both orders.
 *
 * All random numbers of a batch are drawn before any image is decoded, so decoding in parallel cannot
 * change the sequence. Decoded images are kept in a byte-bounded least-recently-used cache, pre-shrunk to
 * the largest size augmentation can ask for, so a small dataset is decoded only once.
 */
import type { TrainConfig } from '../config';
import { augmentImage, drawAugmentParams, SCALE_RANGE, type AugmentParams, type AugmentSize } from './augment';
import type { DatasetIndex } from './dataset-index';
import { decodeImage, type DecodedImage } from './decode-image';
import { DataError } from './errors';
import { deriveSeed, Random, type RandomState } from './random';

/** The part of the training config the sampler reads. */
export type SamplerConfig = Pick<TrainConfig, 'cropSize' | 'loadSize' | 'batchSize' | 'seed'> &
  Partial<Pick<TrainConfig, 'styleLoadSize'>>;

/** Everything needed to continue a sampler exactly where it stopped; plain JSON. */
export interface SamplerState {
  version: 1;
  seed: number;
  /** Generator state for the per-sample choices. */
  rng: RandomState;
  /** Epoch of the photo order (0-based). */
  epoch: number;
  /** Next position in this epoch's photo order. */
  position: number;
  /** Epoch of the style class order. */
  styleEpoch: number;
  /** Next position in this epoch's style class order. */
  stylePosition: number;
  /** Photos and style classes in the dataset the state was taken on; a resume on another dataset is refused. */
  contentCount: number;
  styleClassCount: number;
}

/** The files behind one batch row, for logs and debugging. */
export interface PairSources {
  realA: string;
  styleA: string;
  realB: string;
  styleB: string;
}

/** One iteration's input. Each image array is NHWC `[batchSize, size, size, 3]` with values in [-1, 1]. */
export interface TrainingBatch {
  batchSize: number;
  /** Side of every image (the config's `cropSize`). */
  size: number;
  /** Photos. */
  realA: Float32Array;
  /** Other photos. */
  styleA: Float32Array;
  /** Style images of class `styleClass[b]`. */
  realB: Float32Array;
  /** Other images of the same class (or another crop of the same image). */
  styleB: Float32Array;
  /** Class name of `realB[b]` and `styleB[b]`. */
  styleClass: string[];
  /** Source files of each row. */
  sources: PairSources[];
}

/** Options for {@link PairSampler}. */
export interface SamplerOptions {
  /** Upper bound on cached decoded pixels, in bytes. @default 512 MiB */
  cacheBytes?: number;
}

const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;
/** Stream ids for {@link deriveSeed}, so the three random streams never overlap. */
const STREAM_SAMPLES = 0;
const STREAM_CONTENT_ORDER = 1;
const STREAM_STYLE_ORDER = 2;

/** The draws for one batch row, made before any decoding. */
interface RowPlan {
  files: [string, string, string, string];
  params: [AugmentParams, AugmentParams, AugmentParams, AugmentParams];
  styleClass: string;
}

/** Rejects a state that is not a well-formed {@link SamplerState} for this dataset and seed. */
function checkState(state: SamplerState, index: DatasetIndex, seed: number): void {
  const where = `Sampler state for dataset ${index.root}`;
  const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (
    state?.version !== 1 ||
    !isCount(state.epoch) ||
    !isCount(state.position) ||
    !isCount(state.styleEpoch) ||
    !isCount(state.stylePosition) ||
    !Array.isArray(state.rng)
  ) {
    throw new DataError(
      'BAD_SAMPLER_STATE',
      `${where} is malformed: expected the object returned by PairSampler.state() (version 1).`,
    );
  }
  if (state.seed !== seed) {
    throw new DataError(
      'BAD_SAMPLER_STATE',
      `${where} was taken with seed ${state.seed}, but the config's seed is ${seed}; expected the same seed.`,
    );
  }
  if (state.contentCount !== index.content.length || state.styleClassCount !== index.styleClasses.length) {
    throw new DataError(
      'BAD_SAMPLER_STATE',
      `${where} was taken on ${state.contentCount} photos and ${state.styleClassCount} style classes, ` +
        `but the dataset now has ${index.content.length} and ${index.styleClasses.length}; expected the same dataset.`,
    );
  }
  if (state.position >= state.contentCount || state.stylePosition >= state.styleClassCount) {
    throw new DataError(
      'BAD_SAMPLER_STATE',
      `${where} has a position past the end of its order; expected positions below the dataset sizes.`,
    );
  }
}

/** Seeded, resumable source of augmented training batches over a {@link DatasetIndex}. */
export class PairSampler {
  private readonly rng: Random;
  private epoch: number;
  private position: number;
  private styleEpoch: number;
  private stylePosition: number;
  private contentOrder: number[];
  private styleOrder: number[];
  /** Load and crop sizes of each slot of a row: two photos, then two style images. */
  private readonly slotSizes: readonly AugmentSize[];
  private readonly cache = new Map<string, { image: Promise<DecodedImage>; bytes: number }>();
  private cachedBytes = 0;
  private readonly cacheLimit: number;

  /**
   * @param index a dataset from {@link indexDataset} (at least one photo and two style classes)
   * @param cfg crop and load sizes, batch size and seed
   * @param state a value from {@link PairSampler.state} to resume from; omit to start at the beginning
   * @throws DataError `BAD_SAMPLER_STATE` when `state` is malformed or belongs to another dataset or seed
   */
  constructor(
    private readonly index: DatasetIndex,
    private readonly cfg: SamplerConfig,
    state?: SamplerState,
    options: SamplerOptions = {},
  ) {
    if (index.content.length === 0 || index.styleClasses.length === 0) {
      throw new DataError(
        'EMPTY_FOLDER',
        `Dataset ${index.root} has no photos or no style classes; expected an index from indexDataset().`,
      );
    }
    if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${cfg.batchSize}.`);
    }
    if (state !== undefined) checkState(state, index, cfg.seed);
    this.rng = state ? Random.fromState(state.rng) : new Random(deriveSeed(cfg.seed, STREAM_SAMPLES));
    this.epoch = state?.epoch ?? 0;
    this.position = state?.position ?? 0;
    this.styleEpoch = state?.styleEpoch ?? 0;
    this.stylePosition = state?.stylePosition ?? 0;
    this.contentOrder = this.orderFor(STREAM_CONTENT_ORDER, this.epoch, index.content.length);
    this.styleOrder = this.orderFor(STREAM_STYLE_ORDER, this.styleEpoch, index.styleClasses.length);
    const photo = { cropSize: cfg.cropSize, loadSize: cfg.loadSize };
    const style = { cropSize: cfg.cropSize, loadSize: cfg.styleLoadSize || cfg.loadSize }; // 0 or unset: loadSize
    this.slotSizes = [photo, photo, style, style];
    this.cacheLimit = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** The position after the last batch returned (or requested); JSON-serialisable. */
  state(): SamplerState {
    return {
      version: 1,
      seed: this.cfg.seed,
      rng: this.rng.state(),
      epoch: this.epoch,
      position: this.position,
      styleEpoch: this.styleEpoch,
      stylePosition: this.stylePosition,
      contentCount: this.index.content.length,
      styleClassCount: this.index.styleClasses.length,
    };
  }

  /** Draws, decodes and augments the next batch. */
  async next(): Promise<TrainingBatch> {
    const { batchSize, cropSize } = this.cfg;
    // Every draw happens here, synchronously, before the first await.
    const plans = Array.from({ length: batchSize }, () => this.planRow());
    const perImage = cropSize * cropSize * 3;
    const arrays = [0, 1, 2, 3].map(() => new Float32Array(batchSize * perImage)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    await Promise.all(
      plans.flatMap((plan, b) =>
        plan.files.map(async (file, slot) => {
          const size = this.slotSizes[slot] as AugmentSize;
          const image = await this.load(file, size);
          await augmentImage(image, plan.params[slot] as AugmentParams, size, arrays[slot], b * perImage);
        }),
      ),
    );
    const [realA, styleA, realB, styleB] = arrays;
    return {
      batchSize,
      size: cropSize,
      realA,
      styleA,
      realB,
      styleB,
      styleClass: plans.map((p) => p.styleClass),
      sources: plans.map(({ files: [a, sa, b, sb] }) => ({ realA: a, styleA: sa, realB: b, styleB: sb })),
    };
  }

  private orderFor(stream: number, epoch: number, n: number): number[] {
    return new Random(deriveSeed(this.cfg.seed, stream, epoch)).permutation(n);
  }

  /** Picks one row's four files and augmentation choices, advancing both orders. */
  private planRow(): RowPlan {
    const { content, styleClasses } = this.index;
    const a = this.contentOrder[this.position] as number;
    if (++this.position === content.length) {
      this.position = 0;
      this.epoch++;
      this.contentOrder = this.orderFor(STREAM_CONTENT_ORDER, this.epoch, content.length);
    }
    const partner = this.otherThan(a, content.length);

    const cls = styleClasses[this.styleOrder[this.stylePosition] as number] as DatasetIndex['styleClasses'][number];
    if (++this.stylePosition === styleClasses.length) {
      this.stylePosition = 0;
      this.styleEpoch++;
      this.styleOrder = this.orderFor(STREAM_STYLE_ORDER, this.styleEpoch, styleClasses.length);
    }
    const b = this.rng.int(cls.files.length);
    const bPartner = this.otherThan(b, cls.files.length);

    return {
      files: [content[a] as string, content[partner] as string, cls.files[b] as string, cls.files[bPartner] as string],
      params: [
        drawAugmentParams(this.rng),
        drawAugmentParams(this.rng),
        drawAugmentParams(this.rng),
        drawAugmentParams(this.rng),
      ],
      styleClass: cls.name,
    };
  }

  /** A uniform index in [0, n) other than `i`; `i` itself when it is the only one. */
  private otherThan(i: number, n: number): number {
    if (n < 2) return i;
    const j = this.rng.int(n - 1);
    return j >= i ? j + 1 : j;
  }

  /**
   * Decodes `file` once and keeps it while the cache has room, evicting the least recently used. A file
   * is a photo or a style image, never both, so one decoded size per file serves every later draw.
   */
  private load(file: string, size: AugmentSize): Promise<DecodedImage> {
    const hit = this.cache.get(file);
    if (hit) {
      // Re-inserting moves the entry to the end of the Map's order, which is the recency order.
      this.cache.delete(file);
      this.cache.set(file, hit);
      return hit.image;
    }
    // Augmentation never needs a shorter side above this, so cached images are shrunk to it.
    const maxShorterSide = Math.max(size.cropSize, Math.ceil(size.loadSize * SCALE_RANGE[1]));
    const entry = { image: decodeImage(file, { maxShorterSide }), bytes: 0 };
    this.cache.set(file, entry);
    entry.image.then(
      (image) => {
        if (this.cache.get(file) !== entry) return;
        entry.bytes = image.data.byteLength;
        this.cachedBytes += entry.bytes;
        this.evict(file);
      },
      () => {
        if (this.cache.get(file) === entry) this.cache.delete(file);
      },
    );
    return entry.image;
  }

  private evict(keep: string): void {
    for (const [file, entry] of this.cache) {
      if (this.cachedBytes <= this.cacheLimit) break;
      if (file === keep || entry.bytes === 0) continue; // still decoding, or just added
      this.cache.delete(file);
      this.cachedBytes -= entry.bytes;
    }
  }
}
