/**
 * The public surface of the evaluation: what other parts of Peerstyle (the CLI, model cards, benchmarks)
 * may import. Everything not exported here is internal and may change.
 */
export {
  runEval,
  selectPairs,
  METHODS,
  type EvalOptions,
  type EvalResult,
  type Method,
  type PairResult,
  type Stylizer,
  type StylizeOptions,
} from './run-eval';
export {
  METRICS,
  measurePair,
  contentReference,
  styleReference,
  summarise,
  type MetricKey,
  type MetricValues,
  type MetricSummary,
} from './pair-metrics';
export { formatMarkdown, toJson, type EvalJson } from './report';
export { writeReport, type ReportFiles } from './write-report';
export { renderContactSheet, contactSheetSize } from './contact-sheet';
export { createEngineStylizer, type EngineStylizer, type EngineStylizerOptions } from './engine-stylizer';
export { evalCommand } from './eval-command';
export { ssim } from './ssim';
export { luminance, sobelMagnitude, edgeMap } from './luminance';
export { srgbToLab, labToSrgb, imageToLab } from './lab';
export { slicedWasserstein, slicedWassersteinAlong, randomDirections } from './sliced-wasserstein';
export { createTextureNet, gramMatrices, gramDistance } from './texture-net';
export { reinhardTransfer, reinhardLab, labMoments } from './reinhard';
export { loadImage, loadImageAt, type RgbImage } from './rgb-image';
export { fft, fft2d, powerSpectrum2d, isPowerOfTwo } from './fft';
export { gridScore, peakProminence, peakProminences, gridSpectrum, gridCropSide, GRID_PEAKS } from './grid-score';
export { psnrLuma, psnrRgb, psnrFromMse, capPsnr, PSNR_CAP_DB } from './psnr';
export {
  summariseFidelity,
  FIDELITY_TARGETS,
  type FidelitySummary,
  type FidelityTarget,
  type ReconstructionResult,
} from './fidelity';
