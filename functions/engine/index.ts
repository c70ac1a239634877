/**
 * The engine's public surface: what the CLI, the job runner and the server may import. Everything else
 * under functions/engine/ is internal.
 */
export {
  createEngine,
  DEFAULT_PREVIEW_SIDE,
  STRUCTURE_MODES,
  stylizeFile,
  type StructureMode,
  type Engine,
  type EngineOptions,
  type Preview,
  type Progress,
  type StyleInput,
  type StylizeRequest,
  type StylizeResult,
} from './engine';
export { ENGINE_ERROR_CODES, EngineError, type EngineErrorCode } from './engine-error';
export { DEFAULT_LIMITS, INPUT_FORMATS, OUTPUT_FORMATS, type ImageLimits, type OutputFormat } from './image-io';
export {
  closeModelPackage,
  loadModelPackage,
  ModelPackageError,
  type ModelManifest,
  type ModelPackage,
} from './model-package';
export { EXECUTION_PROVIDERS, type ExecutionProvider } from './onnx-session';
