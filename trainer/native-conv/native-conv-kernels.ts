/**
 * The three convolution kernels of training (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter) on
 * onnxruntime's native CPU convolutions, for the wasm backend.
 *
 * Why: the convolutions are three quarters of a training step on wasm, and wasm's XNNPACK runs them at
 * 8-19 GFLOP/s on one thread here, where onnxruntime's MLAS, with AVX2 or AVX-512 and the same tensors,
 * runs the same shapes 2-4 times faster, NHWC↔NCHW transposes and the copies in and out included
 * (`npx tsx bench/train-throughput.ts --profile` prints the kernels' times, with PEERSTYLE_NATIVE_CONV=off for wasm's). The rest of training stays on wasm; each kernel reads its
 * inputs straight from the wasm heap, runs a cached graph for its shapes (./conv-graphs) synchronously
 * and copies the result into a new wasm tensor. A layout or data type the graphs do not cover (NCHW,
 * anything but float32) goes to the kernel that was registered before.
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type Conv2DAttrs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { filterGradientGraph, forwardConvGraph, GRAPH_IO, inputGradientGraph, type ConvGeometry } from './conv-graphs';
import type { WasmLike } from '../kernels/typed-kernel';
import { loadSyncOrt, type SyncOrt, type SyncSession } from './ort-binding';

const WASM = 'wasm';

type Kind = 'forward' | 'input' | 'filter';

const GRAPHS: Record<Kind, (g: ConvGeometry) => Uint8Array> = {
  forward: forwardConvGraph,
  input: inputGradientGraph,
  filter: filterGradientGraph,
};

/** Sessions kept at most; a run uses a few dozen shapes, and an evicted one is rebuilt in milliseconds. */
const MAX_SESSIONS = 256;

/** One session per (kind, geometry), least recently used evicted first. */
class SessionCache {
  private readonly sessions = new Map<string, SyncSession>();
  constructor(
    private readonly ort: SyncOrt,
    private readonly threads: number,
  ) {}

  get(kind: Kind, geometry: ConvGeometry): SyncSession {
    const key = `${kind} ${JSON.stringify(geometry)}`;
    let session = this.sessions.get(key);
    if (session !== undefined) {
      this.sessions.delete(key); // re-inserted below: the Map's order is the recency order
    } else {
      session = this.ort.load(GRAPHS[kind](geometry), this.threads);
      if (this.sessions.size >= MAX_SESSIONS) {
        const [oldest, evicted] = this.sessions.entries().next().value as [string, SyncSession];
        this.sessions.delete(oldest);
        evicted.dispose();
      }
    }
    this.sessions.set(key, session);
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  clear(): void {
    for (const session of this.sessions.values()) session.dispose();
    this.sessions.clear();
  }
}

/** The forward convolution's geometry, from TF.js's own shape and padding arithmetic. */
function geometryOf(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    inShape: info.inShape,
    filterShape: [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels],
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pads: { top: info.padInfo.top, bottom: info.padInfo.bottom, left: info.padInfo.left, right: info.padInfo.right },
  };
}

const isNhwc = (dataFormat: string | undefined): boolean => dataFormat === undefined || dataFormat === 'NHWC';

/** Runs `session` on heap views of the inputs and returns its result as a new wasm tensor of `shape`. */
function runOnHeap(
  backend: WasmLike,
  session: SyncSession,
  inputs: Record<string, TensorInfo>,
  shape: number[],
): TensorInfo {
  const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const [name, info] of Object.entries(inputs)) {
    feeds[name] = { data: backend.typedArrayFromHeap(info), dims: info.shape };
  }
  const result = session.run(feeds, GRAPH_IO.out);
  // Allocated after the run: allocation may grow the wasm memory, which detaches the input views.
  const out = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(out).set(result);
  return out;
}

/** Where a call meets the graphs: the forward convolution's geometry and the result's shape. */
interface Plan {
  geometry: ConvGeometry;
  outShape: number[];
}

type Shape4 = [number, number, number, number];

/**
 * The plan of each kernel from its inputs and attributes (the inputs' names are the graphs' own), or
 * null for a call the graphs do not cover: NCHW, or anything but float32.
 */
const PLANS: Record<Kind, { name: string; plan: (inputs: Record<string, TensorInfo>, attrs: unknown) => Plan | null }> =
  {
    forward: {
      name: 'Conv2D',
      plan: ({ x, filter }, attrs) => {
        const a = attrs as Conv2DAttrs;
        if (!x || !filter || !isNhwc(a.dataFormat) || x.dtype !== 'float32') return null;
        const info = backend_util.computeConv2DInfo(
          x.shape as Shape4,
          filter.shape as Shape4,
          a.strides,
          a.dilations,
          a.pad,
          a.dimRoundingMode,
        );
        return { geometry: geometryOf(info), outShape: info.outShape };
      },
    },
    input: {
      name: 'Conv2DBackpropInput',
      plan: ({ dy, filter }, attrs) => {
        const a = attrs as Conv2DBackpropInputAttrs;
        if (!dy || !filter || !isNhwc(a.dataFormat) || dy.dtype !== 'float32') return null;
        const info = backend_util.computeConv2DInfo(
          a.inputShape,
          filter.shape as Shape4,
          a.strides,
          1,
          a.pad,
          a.dimRoundingMode,
        );
        return { geometry: geometryOf(info), outShape: [...a.inputShape] };
      },
    },
    filter: {
      name: 'Conv2DBackpropFilter',
      plan: ({ x, dy }, attrs) => {
        const a = attrs as Conv2DBackpropFilterAttrs;
        if (!x || !dy || !isNhwc(a.dataFormat) || x.dtype !== 'float32') return null;
        const info = backend_util.computeConv2DInfo(
          x.shape as Shape4,
          a.filterShape,
          a.strides,
          1,
          a.pad,
          a.dimRoundingMode,
        );
        return { geometry: geometryOf(info), outShape: [...a.filterShape] };
      },
    },
  };

function kernelConfigs(cache: SessionCache, previous: (name: string) => KernelFunc): KernelConfig[] {
  return (Object.keys(PLANS) as Kind[]).map((kind) => {
    const { name, plan } = PLANS[kind];
    const kernelFunc: KernelFunc = (args) => {
      const inputs = args.inputs as Record<string, TensorInfo>;
      const planned = plan(inputs, args.attrs);
      if (planned === null) return previous(name)(args);
      const backend = args.backend as unknown as WasmLike;
      return runOnHeap(backend, cache.get(kind, planned.geometry), inputs, planned.outShape);
    };
    return { kernelName: name, backendName: WASM, kernelFunc };
  });
}

/** What {@link installNativeConvKernels} put in place, to be undone by {@link uninstallNativeConvKernels}. */
let installed: { cache: SessionCache; previous: Map<string, KernelConfig> } | undefined;

/**
 * Puts the native convolutions in place of the wasm backend's Conv2D, Conv2DBackpropInput and
 * Conv2DBackpropFilter (call it after the wasm gradient kernels are registered: those become the
 * fallback). `threads` is onnxruntime's threads within one convolution.
 *
 * @returns false, changing nothing, where onnxruntime-node cannot be loaded
 */
export function installNativeConvKernels(threads: number): boolean {
  if (installed !== undefined) return true;
  const ort = loadSyncOrt();
  if (ort === null) return false;
  const previous = new Map<string, KernelConfig>();
  for (const { name } of Object.values(PLANS)) {
    const kernel = getKernel(name, WASM);
    if (kernel === undefined) throw new Error(`The wasm backend has no ${name} kernel to fall back on.`);
    previous.set(name, kernel);
  }
  const cache = new SessionCache(ort, threads);
  const fallback = (name: string): KernelFunc => previous.get(name)!.kernelFunc;
  for (const config of kernelConfigs(cache, fallback)) {
    unregisterKernel(config.kernelName, WASM);
    registerKernel(config);
  }
  installed = { cache, previous };
  return true;
}

/** Sessions held now (0 when the native kernels are not installed). */
export function nativeConvSessionCount(): number {
  return installed?.cache.size ?? 0;
}

/** Restores the kernels {@link installNativeConvKernels} replaced and frees its sessions. */
export function uninstallNativeConvKernels(): void {
  if (installed === undefined) return;
  for (const [name, config] of installed.previous) {
    unregisterKernel(name, WASM);
    registerKernel(config);
  }
  installed.cache.clear();
  installed = undefined;
}
