/**
 * Binds the evaluation's {@link Stylizer} to the stylisation engine (functions/engine). The engine is
 * loaded on the first call, with a run-time `require`, so that the evaluation and its tests do not load
 * onnxruntime until a model is actually run; the engine's types are imported as types only, which are
 * erased. Every other file of the evaluation sees only the two-paths-in, pixels-out function.
 */
import type { Engine, StructureMode } from '../engine';
import { decodeImageBytes } from './rgb-image';
import type { Stylizer } from './run-eval';

/** The part of the engine's module the evaluation loads. */
type EngineModule = Pick<typeof import('../engine'), 'createEngine'>;

/** Options for {@link createEngineStylizer}. */
export interface EngineStylizerOptions {
  /** Folder of the model package to run. */
  modelDir: string;
  /** Threads per onnxruntime operator. @default onnxruntime's choice (every core) */
  intraOpThreads?: number;
  /** The engine's structure mode. @default the model package's default */
  structure?: StructureMode;
  /** Long side the style images are resampled to. @default the engine's */
  styleSize?: number;
  /** How many times the output's size the model works at. @default the engine's */
  renderScale?: number;
}

/** A stylizer backed by the engine, and the way to release the engine's model. */
export interface EngineStylizer {
  stylize: Stylizer;
  close(): Promise<void>;
}

async function loadEngineModule(): Promise<EngineModule> {
  let mod: Partial<EngineModule>;
  try {
    // `require` at call time, not `import()`: the command runs its TypeScript sources through the
    // CommonJS loader hook, and a dynamic import() would go to Node's ES-module loader, which cannot
    // resolve them. The effect is the same: nothing of the engine is loaded until the first call.
    mod = require('../engine') as Partial<EngineModule>;
  } catch (err) {
    throw new Error(`The stylisation engine (functions/engine) could not be loaded: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof mod.createEngine !== 'function') {
    throw new Error('The stylisation engine (functions/engine) does not export createEngine.');
  }
  return mod as EngineModule;
}

/** Creates a stylizer that runs the model in `modelDir`; the engine starts on the first call. */
export function createEngineStylizer(options: EngineStylizerOptions): EngineStylizer {
  let engine: Promise<Engine> | undefined;
  const start = async (): Promise<Engine> => {
    const { createEngine } = await loadEngineModule();
    return createEngine({ modelDir: options.modelDir, intraOpThreads: options.intraOpThreads });
  };
  return {
    async stylize(contentFile, styleFile, render = {}) {
      engine ??= start();
      const result = await (
        await engine
      ).stylize({
        content: contentFile,
        styles: [{ image: styleFile, weight: 1 }],
        ...(options.structure ? { structure: options.structure } : {}),
        ...(render.strength !== undefined ? { strength: render.strength } : {}),
        ...(render.size !== undefined ? { size: render.size } : {}),
        ...(options.styleSize !== undefined ? { styleSize: options.styleSize } : {}),
        ...(options.renderScale !== undefined ? { renderScale: options.renderScale } : {}),
        format: 'png',
      });
      return decodeImageBytes(result.image);
    },
    async close() {
      if (engine) await (await engine).close();
    },
  };
}
