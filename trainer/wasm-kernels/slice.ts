/**
 * Slice and SplitV for the wasm backend, replacing the shipped ones for speed.
 *
 * The shipped Slice copies a rank-4 slice one innermost row at a time, creating a typed-array view per
 * row: slicing a [4, 134, 134, 16] activation makes some seventy thousand views of 16 floats. A training
 * iteration slices a few hundred times (reflection-pad gradients, latent splits, batch splits), which
 * cost more than the forward convolutions. These versions merge the trailing axes that are taken whole
 * into one contiguous run and copy runs with a plain loop, or with `set` when a run is long.
 */
import {
  backend_util,
  slice_util,
  util,
  Slice,
  SplitV,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type SliceAttrs,
  type SplitVAttrs,
  type TensorInfo,
  type TypedArray,
} from '@tensorflow/tfjs-core';
import { must } from '../../functions/core/must';

/** The wasm backend's methods used here. */
interface WasmLike {
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): TypedArray;
}

/** Runs shorter than this are copied element by element; a subarray view costs more than that. */
const SET_MIN_RUN = 64;

/**
 * Copies the box [begin, begin + size) of `src` (shape `shape`, row-major) into `dst`, densely.
 * Exported for the tests.
 */
export function copyBox(src: TypedArray, shape: number[], begin: number[], size: number[], dst: TypedArray): void {
  const rank = shape.length;
  if (util.sizeFromShape(size) === 0) return;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  // Axes after `inner` are taken whole, so axis `inner` and everything after it is one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) inner--;
  const run = size[inner]! * (rank > 0 ? strides[inner]! : 1);
  let srcBase = 0;
  for (let d = 0; d < rank; d++) srcBase += begin[d]! * strides[d]!;
  const outer = util.sizeFromShape(size.slice(0, inner));
  const index = new Array<number>(inner).fill(0);
  let out = 0;
  for (let r = 0; r < outer; r++) {
    let offset = srcBase;
    for (let d = 0; d < inner; d++) offset += index[d]! * strides[d]!;
    if (run >= SET_MIN_RUN) {
      dst.set(src.subarray(offset, offset + run), out);
    } else {
      for (let k = 0; k < run; k++) dst[out + k] = src[offset + k]!;
    }
    out += run;
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
}

function sliceInto(backend: WasmLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

/** Slice for `backendName` (wasm); string tensors go to the shipped kernel `original`. */
export function sliceConfig(backendName: string, original: KernelFunc): KernelConfig {
  return {
    kernelName: Slice,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string' || x.shape.length === 0) return original(args);
      const { begin, size } = args.attrs as unknown as SliceAttrs;
      const [begin_, size_] = slice_util.parseSliceParams(x, begin, size);
      const backend = args.backend as unknown as WasmLike;
      return sliceInto(backend, x, must(begin_, 'the slice begin'), must(size_, 'the slice size'));
    },
  };
}

/** SplitV for `backendName` (wasm): one slice per part. */
export function splitVConfig(backendName: string, original: KernelFunc): KernelConfig {
  return {
    kernelName: SplitV,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string' || x.shape.length === 0) return original(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
      const $axis = must(util.parseAxisParam(axis, x.shape)[0], 'the split axis');
      const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
      const begin = new Array<number>(x.shape.length).fill(0);
      const backend = args.backend as unknown as WasmLike & KernelBackend;
      return sizes.map((s) => {
        const size = [...x.shape];
        size[$axis] = s;
        const part = sliceInto(backend, x, [...begin], size);
        begin[$axis]! += s;
        return part;
      });
    },
  };
}
