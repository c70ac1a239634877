/**
 * Conv2DBackpropInput for the wasm backend, replacing the backend's own version for speed.
 *
 * Needed by the gradient of tf.conv2d (the input's gradient, at every convolution) and by the forward
 * pass of tf.conv2dTranspose (the decoder's upsampling), whose gradient then calls tf.conv2d and
 * Conv2DBackpropFilter. The backend ships this kernel as a direct loop that runs about ten times slower
 * than its XNNPACK forward convolution, which made it the slowest part of a training step.
 *
 * The input gradient is a full correlation of the output gradient with the spatially flipped filter
 * whose in/out channels are swapped: one stride-1 forward convolution for stride 1. For stride s > 1,
 * input pixel u (per axis) only receives taps a ≡ u + pad (mod s), so the input splits into s² phases,
 * each a stride-1 correlation of the unspread output gradient with the sub-filter of its taps; the
 * phases are then interleaved into the result. The earlier formulation spread dy onto the s-times finer
 * grid with zeros between samples and ran one convolution over it, spending s² times the necessary
 * multiplications on zeros (4× at stride 2, the model's only stride: the decoder's upsampling and the
 * gradients of every downsampling conv); it remains the path where a phase would be empty.
 */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { shape4 } from '../kernels/typed-kernel';
import { callKernel, disposeIntermediate } from './call-kernel';

/** The wasm backend's methods the phase path uses (BackendWasm has them). */
interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

type Run = (name: string, ins: Record<string, TensorInfo>, at: object) => TensorInfo;

/** A stride-1 NHWC convolution with explicit (possibly uneven) zero padding on each side. */
function paddedConv(
  run: Run,
  x: TensorInfo,
  filter: TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): TensorInfo {
  return run(
    'Conv2D',
    { x, filter },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
}

/** One phase along one axis: which taps feed it and which output-gradient window it reads. */
interface AxisPhase {
  /** Residue ρ: the phase holds input positions u with (u + pad) mod s = ρ. */
  rho: number;
  /** Taps ρ, ρ + s, …: T of them. */
  taps: number;
  /** First input position of the phase (ρ + s·q0 − pad) and how many there are. */
  first: number;
  count: number;
  /** q0: the output-gradient index paired with the phase's first position and its last tap. */
  q0: number;
}

/** The s phases of an axis of `size` input positions, kernel k, stride s, leading padding pad. */
function axisPhases(size: number, k: number, s: number, pad: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let rho = 0; rho < s; rho++) {
    const taps = Math.ceil((k - rho) / s);
    const q0 = Math.ceil((pad - rho) / s);
    const q1 = Math.floor((size - 1 + pad - rho) / s);
    phases.push({ rho, taps, first: rho + s * q0 - pad, count: q1 - q0 + 1, q0 });
  }
  return phases;
}

/**
 * dx by s² phase convolutions (see the module comment), or undefined when a phase has no taps or
 * would need negative padding (padding ≥ kernel); the caller then takes the spread path.
 */
function phasePath(
  run: Run,
  backend: WasmLike & KernelBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: [number, number, number, number],
  info: backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const [n, h, w, cin] = inputShape;
  const [, ho, wo, cout] = shape4(dy);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const rows = axisPhases(h, kh, sh, info.padInfo.top);
  const cols = axisPhases(w, kw, sw, info.padInfo.left);
  const usable = (p: AxisPhase) => p.count <= 0 || (p.taps > 0 && p.taps - 1 - p.q0 >= 0);
  if (!rows.every(usable) || !cols.every(usable)) return undefined;

  const parts: { row: AxisPhase; col: AxisPhase; out: TensorInfo }[] = [];
  for (const row of rows) {
    for (const col of cols) {
      if (row.count <= 0 || col.count <= 0) continue;
      // Sub-filter g[t, u, co, ci] = W[ρh + s·(Th − 1 − t), ρw + s·(Tw − 1 − u), ci, co]: flipped, channels swapped.
      const sub = backend.makeOutput([row.taps, col.taps, cout, cin], 'float32');
      const g = backend.typedArrayFromHeap(sub);
      const wv = backend.typedArrayFromHeap(filter);
      for (let t = 0; t < row.taps; t++) {
        for (let u = 0; u < col.taps; u++) {
          const a = row.rho + sh * (row.taps - 1 - t);
          const b = col.rho + sw * (col.taps - 1 - u);
          const dst = (t * col.taps + u) * cout * cin;
          const src = (a * kw + b) * cin * cout;
          for (let ci = 0; ci < cin; ci++) {
            for (let co = 0; co < cout; co++) g[dst + co * cin + ci] = wv[src + ci * cout + co]!;
          }
        }
      }
      // Output o of the phase conv reads dy[q0 + o − (T − 1) + t]; pad dy so that index lines up.
      const top = row.taps - 1 - row.q0;
      const left = col.taps - 1 - col.q0;
      const bottom = Math.max(0, row.count + row.taps - 1 - top - ho);
      const right = Math.max(0, col.count + col.taps - 1 - left - wo);
      const out = paddedConv(run, dy, sub, top, bottom, left, right); // [N, ≥count_h, ≥count_w, Cin]
      disposeIntermediate(backend, sub);
      parts.push({ row, col, out });
    }
  }

  // Interleave: phase pixel (i, j) goes to input pixel (first_h + s·i, first_w + s·j).
  const dx = backend.makeOutput([n, h, w, cin], 'float32');
  const dxv = backend.typedArrayFromHeap(dx);
  if (parts.length < sh * sw) dxv.fill(0); // a phase with no positions leaves nothing to write
  for (const { row, col, out } of parts) {
    const pv = backend.typedArrayFromHeap(out);
    const [, ph, pw] = shape4(out);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < row.count; i++) {
        const dstRow = (b * h + row.first + sh * i) * w;
        const srcRow = (b * ph + i) * pw;
        for (let j = 0; j < col.count; j++) {
          const dst = (dstRow + col.first + sw * j) * cin;
          const src = (srcRow + j) * cin;
          for (let c = 0; c < cin; c++) dxv[dst + c] = pv[src + c]!;
        }
      }
    }
    disposeIntermediate(backend, out);
  }
  return dx;
}

let forcedPath: 'spread' | undefined;

/** Forces the spread formulation for strided convolutions (undefined restores the phases), for tests and benchmarks. */
export function forceInputGradSpread(on: boolean): void {
  forcedPath = on ? 'spread' : undefined;
}

/** Builds the kernel config for `backendName` (the backend must have Conv2D, Reverse, Transpose, Reshape, PadV2 and Slice). */
export function conv2dBackpropInputConfig(backendName: string): KernelConfig {
  return {
    kernelName: Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
      if (dataFormat !== undefined && dataFormat !== 'NHWC') {
        throw new Error(`Conv2DBackpropInput on ${backendName} supports dataFormat NHWC only, got ${dataFormat}.`);
      }
      const info = backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const kb = backend as KernelBackend;
      const run: Run = (name, ins, at) => callKernel(backendName, kb, name, ins, at as NamedAttrMap);
      if ((info.strideHeight > 1 || info.strideWidth > 1) && forcedPath !== 'spread' && 'typedArrayFromHeap' in kb) {
        const dx = phasePath(run, kb as KernelBackend & WasmLike, dy, filter, inputShape, info);
        if (dx !== undefined) return dx;
      }
      const [n, h, w, cin] = inputShape;
      const [, ho, wo, cout] = shape4(dy);
      const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;

      // Flip the filter in space and swap its channel roles: [kh, kw, Cin, Cout] → [kh, kw, Cout, Cin].
      const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
      const backFilter = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
      disposeIntermediate(kb, flipped);

      // Spread dy onto the stride grid: [N, Ho, Wo, Cout] → [N, Ho·sh, Wo·sw, Cout], zeros between samples.
      let spread = dy;
      if (sh > 1 || sw > 1) {
        const split = run('Reshape', { x: dy }, { shape: [n, ho, 1, wo, 1, cout] });
        const padded = run(
          'PadV2',
          { x: split },
          {
            paddings: [
              [0, 0],
              [0, 0],
              [0, sh - 1],
              [0, 0],
              [0, sw - 1],
              [0, 0],
            ],
            constantValue: 0,
          },
        ); // [N, Ho, sh, Wo, sw, Cout]
        disposeIntermediate(kb, split);
        spread = run('Reshape', { x: padded }, { shape: [n, ho * sh, wo * sw, cout] });
        disposeIntermediate(kb, padded);
      }

      // Full correlation: the forward pass's top padding p leaves kh − 1 − p rows of overhang before row 0;
      // the bottom overhang is whatever makes the result at least H rows (extra rows are cropped below).
      const top = kh - 1 - info.padInfo.top;
      const left = kw - 1 - info.padInfo.left;
      const bottom = Math.max(0, h + kh - 1 - top - ho * sh);
      const right = Math.max(0, w + kw - 1 - left - wo * sw);
      if (top < 0 || left < 0) {
        throw new Error(
          `Conv2DBackpropInput on ${backendName} does not support padding larger than the filter (pad ${JSON.stringify(pad)}).`,
        );
      }
      const full = paddedConv(run, spread, backFilter, top, bottom, left, right); // [N, ≥H, ≥W, Cin]
      if (spread !== dy) disposeIntermediate(kb, spread);
      disposeIntermediate(kb, backFilter);

      if (full.shape[1] === h && full.shape[2] === w) return full;
      const dx = run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [n, h, w, cin] }); // [N, H, W, Cin]
      disposeIntermediate(kb, full);
      return dx;
    },
  };
}
