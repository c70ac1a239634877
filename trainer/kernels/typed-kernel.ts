/**
 * Runs a kernel written over plain Float32Arrays on the cpu or the wasm backend.
 *
 * The fused kernels in this folder do in one or two passes over memory what tfjs-core's composite ops
 * do in ten or twenty kernel calls, each with its own pass, allocation and (in training) saved copy.
 * Both backends keep float32 tensors in typed arrays: the cpu backend in JS arrays, the wasm backend in
 * its heap, which `typedArrayFromHeap` views without a copy. This module hides that difference.
 */
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/** The wasm backend's methods used here (BackendWasm has them). */
export interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function isWasm(backend: KernelBackend): backend is KernelBackend & WasmLike {
  return typeof (backend as Partial<WasmLike>).typedArrayFromHeap === 'function';
}

/** One Float32Array view per entry of the tuple `T`. */
type Views<T extends unknown[]> = { [K in keyof T]: Float32Array };

/** The shape [B, H, W, C] of a 4-D tensor; throws for any other rank. */
export function shape4(t: TensorInfo): [number, number, number, number] {
  const [b, h, w, c, ...more] = t.shape;
  if (b === undefined || h === undefined || w === undefined || c === undefined || more.length > 0) {
    throw new Error(`Expected a 4-D tensor, got shape [${t.shape.join(', ')}].`);
  }
  return [b, h, w, c];
}

/**
 * Allocates outputs of the given shapes, then calls `compute` with views of the inputs and the outputs
 * (outputs are not initialised: `compute` writes every element). Returns the outputs' tensor infos.
 * Inputs, shapes, views and results are tuples of one length each, so every view destructures.
 */
export function runTyped<I extends TensorInfo[], O extends number[][]>(
  backendArg: object,
  inputs: [...I],
  outShapes: [...O],
  compute: (ins: Views<I>, outs: Views<O>) => void,
): { [K in keyof O]: TensorInfo } {
  const backend = backendArg as KernelBackend;
  for (const t of inputs) {
    if (t.dtype !== 'float32') throw new Error(`Fused kernels take float32 tensors, got ${t.dtype}.`);
  }
  if (isWasm(backend)) {
    // Allocate first: a heap that grows replaces its buffer, so views are taken only afterwards.
    const outs = outShapes.map((shape) => backend.makeOutput(shape, 'float32'));
    compute(
      inputs.map((t) => backend.typedArrayFromHeap(t)) as Views<I>,
      outs.map((t) => backend.typedArrayFromHeap(t)) as Views<O>,
    );
    return outs as { [K in keyof O]: TensorInfo };
  }
  const outVals = outShapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  compute(inputs.map((t) => backend.readSync(t.dataId) as Float32Array) as Views<I>, outVals as Views<O>);
  const cpu = backend as unknown as {
    makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  };
  return outShapes.map((shape, i) => cpu.makeTensorInfo(shape, 'float32', outVals[i]!)) as {
    [K in keyof O]: TensorInfo;
  };
}
