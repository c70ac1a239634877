/**
 * onnxruntime's synchronous session, for the trainer's convolutions.
 *
 * TF.js kernels are synchronous and onnxruntime-node's public `InferenceSession.run` returns a
 * promise, so the trainer uses the binding under it (`onnxruntime-node/dist/binding`, the object the
 * public session wraps, typed by the package's own binding.d.ts), whose `run` returns its outputs
 * directly. It is the only trainer module that imports onnxruntime-node; the platform's inference
 * goes through functions/engine/onnx-session.ts. The package is a dependency of the project, but a
 * trainer image built without it still trains: `loadSyncOrt` then answers null and the wasm kernels stay.
 */
import type { Binding } from 'onnxruntime-node/dist/binding';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { mainRealmRequire } from '../../functions/engine/main-realm-require';

/** A loaded graph whose `run` is synchronous. */
export interface SyncSession {
  /** Runs the graph on float32 inputs; returns the named output's data (a new array). */
  run(inputs: Readonly<Record<string, { data: Float32Array; dims: readonly number[] }>>, output: string): Float32Array;
  dispose(): void;
}

/** Creates sessions from ONNX bytes, each using `threads` threads within an operator. */
export interface SyncOrt {
  load(model: Uint8Array, threads: number): SyncSession;
}

let loaded: SyncOrt | null | undefined;

/** The synchronous onnxruntime, or null where onnxruntime-node cannot be loaded. Loaded once. */
export function loadSyncOrt(): SyncOrt | null {
  if (loaded !== undefined) return loaded;
  try {
    // From the main realm, as the engine loads it: onnxruntime checks inputs against that realm's Float32Array.
    const load = mainRealmRequire();
    const { binding, initOrt } = load(
      'onnxruntime-node/dist/binding',
    ) as typeof import('onnxruntime-node/dist/binding');
    const { Tensor } = load('onnxruntime-node') as typeof import('onnxruntime-node');
    const probe = new Tensor('float32', [0], [1]).data as Float32Array;
    const HostFloat32Array = probe.constructor as Float32ArrayConstructor;
    initOrt();
    loaded = {
      load(model, threads) {
        const session: Binding.InferenceSession = new binding.InferenceSession();
        session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          // Idle onnxruntime threads sleep instead of spinning: the wasm pool shares the cores.
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        });
        return {
          run(inputs, output) {
            const feeds: Record<string, OrtTensor> = {};
            for (const [name, { data, dims }] of Object.entries(inputs)) {
              // onnxruntime takes neither a typed array of another realm nor one over a SharedArrayBuffer
              // (the heap of a wasm thread pool): those are copied, anything else is handed over as it is.
              let host = data;
              if (!(data instanceof HostFloat32Array) || data.buffer instanceof SharedArrayBuffer) {
                host = new HostFloat32Array(data.length);
                host.set(data);
              }
              feeds[name] = new Tensor('float32', host, dims);
            }
            const result = session.run(feeds, { [output]: null }, {})[output] as OrtTensor | undefined;
            if (result === undefined) throw new Error(`onnxruntime returned no "${output}".`);
            return result.data as Float32Array;
          },
          dispose: () => session.dispose(),
        };
      },
    };
  } catch {
    loaded = null;
  }
  return loaded;
}
