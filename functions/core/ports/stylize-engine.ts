/**
 * The stylize engine port: paints one content image in the manner of one or more style images.
 *
 * Workers call this and nothing deeper, so the onnxruntime engine that runs locally, a GPU service on
 * AWS and the small engines tests use are interchangeable. Inputs and outputs are plain bytes: reading
 * blobs and writing results is the worker's business, not the engine's.
 */

/** One style image and how strongly it counts in a blend. */
export interface StyleInput {
  /** Encoded image bytes (JPEG, PNG, WebP). */
  image: Uint8Array;
  /** Relative weight in a blend of several styles. @default 1 */
  weight?: number;
}

/** Output encodings an engine may be asked for. */
export const STYLIZE_FORMATS = ['png', 'jpeg', 'webp'] as const;
/** Output encoding. */
export type StylizeFormat = (typeof STYLIZE_FORMATS)[number];

/** Long side of a preview, in pixels. */
export const PREVIEW_LONG_SIDE = 512;

/** What to stylize and how. */
export interface StylizeRequest {
  /** Encoded content image bytes. */
  content: Uint8Array;
  /** At least one style image. */
  styles: StyleInput[];
  /** The registered model to use (its id and where its package is); absent means the built-in one. */
  model?: { id: string; packagePrefix: string };
  /** 0 keeps the content, 1 is full stylization. @default 1 */
  strength?: number;
  /** Keep the content's colours and transfer only texture. @default false */
  preserveColor?: boolean;
  /** 'keep': TSPR's first stage only, the content keeps its structure; 'transfer': both stages. @default the model's */
  structure?: 'keep' | 'transfer';
  /** Longest side of the content, in pixels, before stylization. */
  size?: number;
  /** Longest side of each style image, in pixels. */
  styleSize?: number;
  /** @default 'png' */
  format?: StylizeFormat;
  /**
   * Deliver a small rendering (`PREVIEW_LONG_SIDE` on the long side; an output no larger gets itself)
   * through `onProgress` before the result. @default false
   */
  preview?: boolean;
}

/** A small early rendering of the result, encoded. */
export interface StylizePreview {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** MIME type of `bytes`, e.g. "image/jpeg". */
  contentType: string;
}

/** A step reached during stylization. */
export interface StylizeProgress {
  /** Fraction done, 0..1. */
  progress: number;
  /** Name of the step, e.g. "encoding style". */
  stage: string;
  /** With stage "preview", when the request asked for one: the small rendering. */
  preview?: StylizePreview;
}

/** How a caller steers a running stylization. */
export interface StylizeOptions {
  /** Aborting it stops the work at the next step; the promise then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Called at each step, in order. */
  onProgress?: (progress: StylizeProgress) => void;
}

/** The stylized image. */
export interface StylizeResult {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** MIME type of `bytes`, e.g. "image/png". */
  contentType: string;
}

/** Paints content images in the style of others. */
export interface StylizeEngine {
  stylize(request: StylizeRequest, options?: StylizeOptions): Promise<StylizeResult>;
}
