/**
 * `OnnxStylizeEngine`: the stylize engine port over the onnxruntime engine in functions/engine.
 *
 * The engine module is imported at first use, not at load time, so a worker that only trains (or a
 * test with its own engine) never loads onnxruntime, and so that this adapter builds even where the
 * engine is not installed. One engine is kept per model folder, because loading a model is the slow
 * part and jobs for the same model follow one another.
 *
 * The local server and the AWS Batch worker container both use this adapter; the container only sets
 * `executionProvider` to 'cuda', from which the engine falls back to the CPU with a notice when the
 * host has no GPU.
 */

import { DomainError, ErrorCode } from '../core';
import type { StylizeEngine, StylizeOptions, StylizeRequest, StylizeResult } from '../core/ports/stylize-engine';
import type { ExecutionProvider } from '../engine';

/** What this adapter needs from functions/engine. */
interface EngineModule {
  createEngine(options: {
    modelDir: string;
    intraOpThreads?: number;
    executionProvider?: ExecutionProvider;
  }): Promise<LoadedEngine> | LoadedEngine;
}

interface LoadedEngine {
  stylize(request: {
    content: Buffer;
    styles: { image: Buffer; weight: number }[];
    strength?: number;
    preserveColor?: boolean;
    structure?: 'keep' | 'transfer';
    size?: number;
    styleSize?: number;
    format?: string;
    preview?: boolean;
    signal?: AbortSignal;
    onProgress?: (progress: { stage: string; fraction: number; preview?: EnginePreview }) => void;
  }): Promise<{ image: Buffer; width: number; height: number; format: string }>;
}

interface EnginePreview {
  image: Buffer;
  width: number;
  height: number;
  format: string;
}

/**
 * The engine's error codes, in the platform's vocabulary: an image error keeps its own code, so one input
 * gets the same code from the CLI, the API and the drop folder.
 */
const ENGINE_CODES: Readonly<Record<string, ErrorCode>> = {
  INVALID_IMAGE: ErrorCode.INVALID_IMAGE,
  EMPTY: ErrorCode.EMPTY,
  TRUNCATED: ErrorCode.TRUNCATED,
  UNSUPPORTED_FORMAT: ErrorCode.UNSUPPORTED_FORMAT,
  TOO_LARGE: ErrorCode.TOO_LARGE,
  CANCELLED: ErrorCode.CANCELLED,
  BAD_OPTION: ErrorCode.BAD_REQUEST,
};

/** Turns an engine error into a DomainError so the job records a code clients can act on. */
function translate(error: unknown): unknown {
  if (error instanceof DomainError || !(error instanceof Error)) return error;
  const engineCode = (error as { code?: unknown }).code as string;
  const code = ENGINE_CODES[engineCode];
  return code === undefined ? error : new DomainError(code, error.message, { engineCode }, { cause: error });
}

/** Options for `OnnxStylizeEngine`. */
export interface OnnxStylizeEngineOptions {
  /** Returns the local folder holding a model's package; `undefined` asks for the built-in model. */
  resolveModelDir(model: { id: string; packagePrefix: string } | undefined): Promise<string>;
  /** Threads per inference. @default 1 */
  intraOpThreads?: number;
  /** Where the model runs; the GPU worker asks for 'cuda'. @default the engine's default, 'cpu' */
  executionProvider?: ExecutionProvider;
  /** Module specifier of the engine; tests and packaging may point it elsewhere. @default '../engine' */
  engineModule?: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  webp: 'image/webp',
};

/** Stylizes with the onnxruntime engine, loaded lazily. */
export class OnnxStylizeEngine implements StylizeEngine {
  private module: Promise<EngineModule> | undefined;
  private readonly engines = new Map<string, Promise<LoadedEngine>>();

  constructor(private readonly options: OnnxStylizeEngineOptions) {}

  async stylize(request: StylizeRequest, options: StylizeOptions = {}): Promise<StylizeResult> {
    const modelDir = await this.options.resolveModelDir(request.model);
    const engine = await this.engineFor(modelDir);
    // A job cancelled while its model loaded is not started.
    options.signal?.throwIfAborted();
    const onProgress = options.onProgress;
    const out = await engine
      .stylize({
        content: Buffer.from(request.content),
        styles: request.styles.map((style) => ({ image: Buffer.from(style.image), weight: style.weight ?? 1 })),
        ...(request.strength !== undefined ? { strength: request.strength } : {}),
        ...(request.preserveColor !== undefined ? { preserveColor: request.preserveColor } : {}),
        ...(request.structure !== undefined ? { structure: request.structure } : {}),
        ...(request.size !== undefined ? { size: request.size } : {}),
        ...(request.styleSize !== undefined ? { styleSize: request.styleSize } : {}),
        format: request.format ?? 'png',
        ...(request.preview === true ? { preview: true } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(onProgress
          ? {
              onProgress: (p: { stage: string; fraction: number; preview?: EnginePreview }) =>
                onProgress({
                  progress: p.fraction,
                  stage: p.stage,
                  ...(p.preview && {
                    preview: {
                      bytes: p.preview.image,
                      width: p.preview.width,
                      height: p.preview.height,
                      contentType: CONTENT_TYPES[p.preview.format] ?? 'application/octet-stream',
                    },
                  }),
                }),
            }
          : {}),
      })
      .catch((error: unknown) => {
        throw translate(error);
      });
    return {
      bytes: out.image,
      width: out.width,
      height: out.height,
      contentType: CONTENT_TYPES[out.format] ?? 'application/octet-stream',
    };
  }

  private engineFor(modelDir: string): Promise<LoadedEngine> {
    let engine = this.engines.get(modelDir);
    if (engine === undefined) {
      engine = this.loadModule().then((m) =>
        m.createEngine({
          modelDir,
          intraOpThreads: this.options.intraOpThreads ?? 1,
          ...(this.options.executionProvider !== undefined && { executionProvider: this.options.executionProvider }),
        }),
      );
      // A failed load is not cached, so fixing the model folder does not need a restart.
      engine.catch(() => this.engines.delete(modelDir));
      this.engines.set(modelDir, engine);
    }
    return engine;
  }

  private loadModule(): Promise<EngineModule> {
    // A variable specifier keeps the compiler from requiring the module to exist at build time.
    const specifier = this.options.engineModule ?? '../engine';
    // require, not import(): under the `peerstyle` command the sources load through tsx's CommonJS
    // hook, which a native dynamic import bypasses.
    this.module ??= Promise.resolve()
      .then(() => require(specifier) as EngineModule)
      .catch((error: unknown) => {
        this.module = undefined;
        throw new DomainError(
          ErrorCode.UNAVAILABLE,
          `The stylize engine could not be loaded from ${specifier}.`,
          undefined,
          {
            cause: error,
          },
        );
      });
    return this.module;
  }
}
