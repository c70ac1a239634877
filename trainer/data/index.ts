/**
 * The public surface of the training data pipeline: what the training loop and the CLI may import.
 * Everything else in trainer/data/ is an implementation detail.
 */
export { DataError, DATA_ERROR_CODES, type DataErrorCode } from './errors';
export { indexDataset, type DatasetIndex, type IndexOptions, type StyleClass } from './dataset-index';
export { decodeImage, type DecodedImage, type DecodeOptions } from './decode-image';
export {
  augmentImage,
  colorJitter,
  cropGeometry,
  drawAugmentParams,
  JITTER_OPS,
  type AugmentParams,
  type AugmentSize,
  type CropGeometry,
  type JitterOp,
} from './augment';
export { Random, deriveSeed, type RandomState } from './random';
export {
  PairSampler,
  type PairSources,
  type SamplerConfig,
  type SamplerOptions,
  type SamplerState,
  type TrainingBatch,
} from './pair-sampler';
