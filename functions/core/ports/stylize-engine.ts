/**
 * The stylize engine port: paints one content image in the manner of one or more style images.
 *
 * Workers call this and nothing deeper, so the onnxruntime engine that runs locally, a GPU service on
 * AWS and the small engines tests use are interchangeable. Inputs and outputs are plain bytes: reading
 * blobs and writing results is the worker's business, not the engine's.
 *
 * The options are the job's (`StylizeOptions` in ../stylize-input.ts), and the progress and image
 * shapes are the ones functions/engine reports, so a worker hands a job's options through and the
 * engine's reports back without renaming a field.
 */

import type { StylizeFormat, StylizeOptions } from '../stylize-input';

/** One style image and how strongly it counts in a blend. */
export interface StyleInput {
  /** Encoded image bytes (JPEG, PNG, WebP). */
  image: Uint8Array;
  /** Relative weight in a blend of several styles. @default 1 */
  weight?: number;
}

/** Long side of a preview, in pixels. */
export const PREVIEW_LONG_SIDE = 512;

/**
 * What to stylize and how. Every option may be left out for the engine's default; `preview: true`
 * asks for a small rendering (`PREVIEW_LONG_SIDE` on the long side; an output no larger gets itself)
 * through `onProgress` before the result.
 */
export type StylizeRequest = Partial<StylizeOptions> & {
  /** Encoded content image bytes. */
  content: Uint8Array;
  /** At least one style image. */
  styles: StyleInput[];
  /** The registered model to use (its id and where its package is); absent means the built-in one. */
  model?: { id: string; packagePrefix: string };
};

/** An encoded image: the stylized result, or its early preview. */
export interface EncodedImage {
  image: Uint8Array;
  width: number;
  height: number;
  format: StylizeFormat;
}

/** A step reached during stylization. */
export interface StylizeProgress {
  /** Name of the step, e.g. "encode". */
  stage: string;
  /** Fraction of the whole request done, 0..1. */
  progress: number;
  /** With stage "preview", when the request asked for one: the small rendering. */
  preview?: EncodedImage;
}

/** How a caller steers a running stylization. */
export interface StylizeControl {
  /** Aborting it stops the work at the next step; the promise then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Called at each step, in order. */
  onProgress?: (progress: StylizeProgress) => void;
}

/** Paints content images in the style of others. */
export interface StylizeEngine {
  stylize(request: StylizeRequest, control?: StylizeControl): Promise<EncodedImage>;
}
