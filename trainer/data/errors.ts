/**
 * The training data pipeline's error type. Every failure the pipeline can report carries one code from a
 * closed set, so that the trainer's entry point can map it to an exit status and a user-facing message
 * without parsing text, and a message that names the offending path and what was expected there.
 */

/** Every way the data pipeline can refuse a dataset, an image or a saved sampler state. */
export const DATA_ERROR_CODES = [
  /** The dataset root, its `content/` or its `style/` folder does not exist or is not a folder. */
  'MISSING_FOLDER',
  /** `content/` holds no usable image. */
  'EMPTY_FOLDER',
  /** `style/` gives fewer than two classes, so the metric loss has no negative pair. */
  'TOO_FEW_STYLE_CLASSES',
  /** More images failed to decode than the configured `maxCorruptFraction` allows. */
  'TOO_MANY_CORRUPT',
  /** One image could not be read or decoded. */
  'UNREADABLE_IMAGE',
  /** A saved sampler state is malformed or belongs to a different dataset. */
  'BAD_SAMPLER_STATE',
] as const;

export type DataErrorCode = (typeof DATA_ERROR_CODES)[number];

/** A data pipeline failure with a machine-readable {@link DataErrorCode}. */
export class DataError extends Error {
  override name = 'DataError';

  /**
   * @param code what went wrong, from a closed set
   * @param message one sentence naming the path involved and what was expected there
   */
  constructor(
    readonly code: DataErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The expected folder layout, quoted in messages about a malformed dataset. */
export const EXPECTED_LAYOUT =
  'Expected <root>/content/ with photos and <root>/style/ with either class sub-folders of images or at least two images';
