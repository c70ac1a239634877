/**
 * `OnnxStylizeEngine`: the stylize engine port over the onnxruntime engine in functions/engine.
 *
 * The port's request, progress and result are the engine's own shapes (both take them from the core),
 * so this adapter only loads the engine, keeps one per model folder (loading a model is the slow part,
 * and jobs for the same model follow one another), turns bytes into the Buffers the engine reads, and
 * translates the engine's error codes into the platform's.
 *
 * The local server and the AWS Batch worker container both use this adapter; the container only sets
 * `executionProvider` to 'cuda', from which the engine falls back to the CPU with a notice when the
 * host has no GPU.
 */

import { DomainError, ErrorCode } from '../core';
import type { EncodedImage, StylizeControl, StylizeEngine, StylizeRequest } from '../core/ports/stylize-engine';
import type { Engine, EngineErrorCode, ExecutionProvider } from '../engine';

/** What this adapter loads from functions/engine, typed by the engine's own declarations. */
type EngineModule = Pick<typeof import('../engine'), 'createEngine'>;

/**
 * The engine's error codes, in the platform's vocabulary: an image error keeps its own code, so one input
 * gets the same code from the CLI, the API and the drop folder. Keyed by the engine's own code list, so
 * a code added there must be given a meaning here.
 */
const ENGINE_CODES: Readonly<Record<EngineErrorCode, ErrorCode>> = {
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
  const engineCode = (error as { code?: unknown }).code as EngineErrorCode;
  const code: ErrorCode | undefined = ENGINE_CODES[engineCode];
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

/** Stylizes with the onnxruntime engine, loaded lazily. */
export class OnnxStylizeEngine implements StylizeEngine {
  private module: Promise<EngineModule> | undefined;
  private readonly engines = new Map<string, Promise<Engine>>();

  constructor(private readonly options: OnnxStylizeEngineOptions) {}

  async stylize(request: StylizeRequest, control: StylizeControl = {}): Promise<EncodedImage> {
    return this.stylizeIn(await this.options.resolveModelDir(request.model), request, control);
  }

  /** Stylizes with the package in `modelDir`, already resolved from `request.model` (which is not read). */
  async stylizeIn(modelDir: string, request: StylizeRequest, control: StylizeControl = {}): Promise<EncodedImage> {
    const { content, styles, model: _resolved, ...options } = request;
    const engine = await this.engineFor(modelDir);
    // A job cancelled while its model loaded is not started.
    control.signal?.throwIfAborted();
    return engine
      .stylize({
        ...options,
        content: Buffer.from(content),
        styles: styles.map((style) => ({ image: Buffer.from(style.image), weight: style.weight ?? 1 })),
        signal: control.signal,
        onProgress: control.onProgress,
      })
      .catch((error: unknown) => {
        throw translate(error);
      });
  }

  private engineFor(modelDir: string): Promise<Engine> {
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
    // Loaded at run time from a specifier held in a variable, not imported: every Lambda function's bundle
    // reaches this file through the AWS composition root, and esbuild follows a static import (or a
    // literal require) into onnxruntime-node's native addon and sharp, which no Lambda function needs.
    // The engine's types above are type-only imports, erased before bundling.
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
