/**
 * `WorkerStylizeEngine`: the stylize engine port over functions/engine, for the GPU worker container.
 *
 * It differs from the local server's engine adapter in two ways that matter in the container: the
 * engine is imported statically (the container starts the command through a CommonJS loader, under
 * which a dynamic `import()` of TypeScript sources does not resolve), and the execution provider is a
 * setting, so the worker asks for CUDA, which the engine falls back from to the CPU with a notice when
 * no GPU is present. One engine is kept per model folder, since loading a model is the slow part.
 */

import { DomainError, ErrorCode } from '../../core';
import { createEngine, EngineError, type Engine, type EngineErrorCode, type ExecutionProvider } from '../../engine';
import type { StylizeEngine, StylizeOptions, StylizeRequest, StylizeResult } from '../../core/ports/stylize-engine';

/** Options for `WorkerStylizeEngine`. */
export interface WorkerStylizeEngineOptions {
  /** The local folder holding a model's package; `undefined` asks for the built-in model. */
  resolveModelDir(model: { id: string; packagePrefix: string } | undefined): Promise<string>;
  /** Threads per inference. @default 1 */
  intraOpThreads?: number;
  /** @default 'cuda' */
  executionProvider?: ExecutionProvider;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** The platform's code for each engine failure; the owner sees the code, so it must say whose fault it is. */
const ENGINE_CODES: Readonly<Record<EngineErrorCode, ErrorCode>> = {
  INVALID_IMAGE: ErrorCode.INVALID_IMAGE,
  EMPTY: ErrorCode.INVALID_IMAGE,
  TRUNCATED: ErrorCode.INVALID_IMAGE,
  UNSUPPORTED_FORMAT: ErrorCode.UNSUPPORTED_FORMAT,
  TOO_LARGE: ErrorCode.TOO_LARGE,
  CANCELLED: ErrorCode.CANCELLED,
  BAD_OPTION: ErrorCode.BAD_REQUEST,
};

function toDomainError(error: unknown): unknown {
  if (!(error instanceof EngineError)) return error;
  return new DomainError(ENGINE_CODES[error.code], error.message, { engineCode: error.code }, { cause: error });
}

/** Stylizes with the onnxruntime engine. */
export class WorkerStylizeEngine implements StylizeEngine {
  private readonly engines = new Map<string, Promise<Engine>>();

  constructor(private readonly options: WorkerStylizeEngineOptions) {}

  async stylize(request: StylizeRequest, options: StylizeOptions = {}): Promise<StylizeResult> {
    const engine = await this.engineFor(await this.options.resolveModelDir(request.model));
    options.signal?.throwIfAborted();
    const out = await engine
      .stylize({
        content: Buffer.from(request.content),
        styles: request.styles.map((style) => ({ image: Buffer.from(style.image), weight: style.weight ?? 1 })),
        ...(request.strength !== undefined && { strength: request.strength }),
        ...(request.preserveColor !== undefined && { preserveColor: request.preserveColor }),
        ...(request.size !== undefined && { size: request.size }),
        ...(request.styleSize !== undefined && { styleSize: request.styleSize }),
        format: request.format ?? 'png',
        ...(options.signal && { signal: options.signal }),
        ...(options.onProgress && {
          onProgress: ({ stage, fraction }: { stage: string; fraction: number }) =>
            options.onProgress?.({ stage, progress: fraction }),
        }),
      })
      .catch((error: unknown) => {
        throw toDomainError(error);
      });
    return {
      bytes: out.image,
      width: out.width,
      height: out.height,
      contentType: CONTENT_TYPES[out.format] ?? 'application/octet-stream',
    };
  }

  private engineFor(modelDir: string): Promise<Engine> {
    let engine = this.engines.get(modelDir);
    if (engine === undefined) {
      engine = createEngine({
        modelDir,
        intraOpThreads: this.options.intraOpThreads ?? 1,
        executionProvider: this.options.executionProvider ?? 'cuda',
      });
      // A failed load is not kept, so the next job tries again.
      engine.catch(() => this.engines.delete(modelDir));
      this.engines.set(modelDir, engine);
    }
    return engine;
  }
}
