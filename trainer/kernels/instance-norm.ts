/**
 * Instance normalisation as one kernel with a hand-written gradient.
 *
 * Composed from tfjs-core ops (moments, sub, add, sqrt, div), instance norm costs about ten kernel calls
 * forward and twenty backward, each a full pass over the activation with its own allocation; a `small`
 * training iteration runs some sixty of them. Here each pass handles four channels at once: the forward
 * pass reads them twice (shifted sums, output), the backward pass twice, the sums kept in float64.
 *
 * Forward, per sample b and channel c over the n = H·W positions: μ = Σx/n, σ² = Σ(x − μ)²/n (biased, as
 * PyTorch's InstanceNorm2d), r = 1/√(σ² + ε), y = (x − μ)·r. Backward: dx = r·(dy − mean(dy) − y·mean(dy·y)),
 * the exact derivative of that map.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo, GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { must } from '../../functions/core/must';
import { runTyped, shape4 } from './typed-kernel';

export const INSTANCE_NORM = 'PeerstyleInstanceNorm';
export const INSTANCE_NORM_GRAD = 'PeerstyleInstanceNormGrad';

/** Forward: x [B, H, W, C] → y [B, H, W, C] and r [B, C] = 1/√(σ² + ε). */
export function instanceNormKernel(backendName: string): KernelConfig {
  return {
    kernelName: INSTANCE_NORM,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: TensorInfo };
      const { eps } = attrs as unknown as { eps: number };
      const [b, h, w, c] = shape4(x);
      return runTyped(backend, [x], [x.shape, [b, c]], ([xv], [y, rstd]) => {
        eachChannelGroup(
          b,
          h * w,
          c,
          (run) => normaliseFour(xv, y, rstd, run, eps),
          (run) => normaliseOne(xv, y, rstd, run, eps),
        );
      });
    },
  };
}

/**
 * Channels are handled four at a time, each channel's running sums in its own local variable: V8 keeps
 * locals in registers, where a per-channel accumulator array costs a load and a store per element (a
 * loop over all channels with Float64Array sums ran 4-5 times slower, `small`'s shapes, one thread).
 */
const LANES = 4;

/**
 * One channel of one sample in an NHWC array: its values are at first, first + stride, … up to end;
 * n of them, and its 1/σ at rIndex of the [B, C] statistics.
 */
interface ChannelRun {
  rIndex: number;
  first: number;
  end: number;
  stride: number;
  n: number;
}

/** Calls `four` for each group of four channels of each sample and `one` for each channel left over. */
function eachChannelGroup(
  b: number,
  n: number,
  c: number,
  four: (run: ChannelRun) => void,
  one: (run: ChannelRun) => void,
): void {
  for (let s = 0; s < b; s++) {
    const end = (s + 1) * n * c;
    const run = (k: number): ChannelRun => ({ rIndex: s * c + k, first: s * n * c + k, end, stride: c, n });
    for (let k = 0; k < c; k += LANES) {
      if (k + LANES <= c) four(run(k));
      else for (let j = k; j < c; j++) one(run(j));
    }
  }
}

/**
 * Statistics and output of channels k..k+3 of one sample, `run` giving channel k's place. The sums are shifted by each channel's
 * first value, so that one pass gives the variance without the cancellation of Σx² − (Σx)²/n.
 */
function normaliseFour(x: Float32Array, y: Float32Array, rstd: Float32Array, run: ChannelRun, eps: number): void {
  const { rIndex, first, end, stride, n } = run;
  const h0 = x[first]!;
  const h1 = x[first + 1]!;
  const h2 = x[first + 2]!;
  const h3 = x[first + 3]!;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let q0 = 0;
  let q1 = 0;
  let q2 = 0;
  let q3 = 0;
  for (let i = first; i < end; i += stride) {
    const d0 = x[i]! - h0;
    const d1 = x[i + 1]! - h1;
    const d2 = x[i + 2]! - h2;
    const d3 = x[i + 3]! - h3;
    a0 += d0;
    a1 += d1;
    a2 += d2;
    a3 += d3;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
  }
  const m0 = h0 + a0 / n;
  const m1 = h1 + a1 / n;
  const m2 = h2 + a2 / n;
  const m3 = h3 + a3 / n;
  const r0 = reciprocalStd(a0, q0, n, eps);
  const r1 = reciprocalStd(a1, q1, n, eps);
  const r2 = reciprocalStd(a2, q2, n, eps);
  const r3 = reciprocalStd(a3, q3, n, eps);
  for (let i = first; i < end; i += stride) {
    y[i] = (x[i]! - m0) * r0;
    y[i + 1] = (x[i + 1]! - m1) * r1;
    y[i + 2] = (x[i + 2]! - m2) * r2;
    y[i + 3] = (x[i + 3]! - m3) * r3;
  }
  rstd[rIndex] = r0;
  rstd[rIndex + 1] = r1;
  rstd[rIndex + 2] = r2;
  rstd[rIndex + 3] = r3;
}

/** {@link normaliseFour} for one channel: the channels left over when C is not a multiple of four. */
function normaliseOne(x: Float32Array, y: Float32Array, rstd: Float32Array, run: ChannelRun, eps: number): void {
  const { rIndex, first, end, stride, n } = run;
  const h = x[first]!;
  let a = 0;
  let q = 0;
  for (let i = first; i < end; i += stride) {
    const d = x[i]! - h;
    a += d;
    q += d * d;
  }
  const m = h + a / n;
  const r = reciprocalStd(a, q, n, eps);
  for (let i = first; i < end; i += stride) y[i] = (x[i]! - m) * r;
  rstd[rIndex] = r;
}

/** 1/√(σ² + ε) from the shifted sums Σd and Σd² of n values (σ² = Σd²/n − (Σd/n)², biased). */
function reciprocalStd(sum: number, sumSquares: number, n: number, eps: number): number {
  const m = sum / n;
  return 1 / Math.sqrt(Math.max(sumSquares / n - m * m, 0) + eps);
}

/** Backward: dy, y [B, H, W, C] and r [B, C] → dx [B, H, W, C]. */
export function instanceNormGradKernel(backendName: string): KernelConfig {
  return {
    kernelName: INSTANCE_NORM_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { dy, y, rstd } = inputs as { dy: TensorInfo; y: TensorInfo; rstd: TensorInfo };
      const [b, h, w, c] = shape4(y);
      return runTyped(backend, [dy, y, rstd], [y.shape], ([g, yv, r], [dx]) => {
        eachChannelGroup(
          b,
          h * w,
          c,
          (run) => backpropFour(g, yv, r, dx, run),
          (run) => backpropOne(g, yv, r, dx, run),
        );
      })[0];
    },
  };
}

/** dx = r·(dy − mean(dy) − y·mean(dy·y)) for channels k..k+3 of one sample (arguments as normaliseFour's). */
function backpropFour(g: Float32Array, y: Float32Array, rstd: Float32Array, dx: Float32Array, run: ChannelRun): void {
  const { rIndex, first, end, stride, n } = run;
  let g0 = 0;
  let g1 = 0;
  let g2 = 0;
  let g3 = 0;
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  for (let i = first; i < end; i += stride) {
    const d0 = g[i]!;
    const d1 = g[i + 1]!;
    const d2 = g[i + 2]!;
    const d3 = g[i + 3]!;
    g0 += d0;
    g1 += d1;
    g2 += d2;
    g3 += d3;
    p0 += d0 * y[i]!;
    p1 += d1 * y[i + 1]!;
    p2 += d2 * y[i + 2]!;
    p3 += d3 * y[i + 3]!;
  }
  const [m0, m1, m2, m3] = [g0 / n, g1 / n, g2 / n, g3 / n];
  const [v0, v1, v2, v3] = [p0 / n, p1 / n, p2 / n, p3 / n];
  const r0 = rstd[rIndex]!;
  const r1 = rstd[rIndex + 1]!;
  const r2 = rstd[rIndex + 2]!;
  const r3 = rstd[rIndex + 3]!;
  for (let i = first; i < end; i += stride) {
    dx[i] = r0 * (g[i]! - m0 - y[i]! * v0);
    dx[i + 1] = r1 * (g[i + 1]! - m1 - y[i + 1]! * v1);
    dx[i + 2] = r2 * (g[i + 2]! - m2 - y[i + 2]! * v2);
    dx[i + 3] = r3 * (g[i + 3]! - m3 - y[i + 3]! * v3);
  }
}

/** {@link backpropFour} for one channel. */
function backpropOne(g: Float32Array, y: Float32Array, rstd: Float32Array, dx: Float32Array, run: ChannelRun): void {
  const { rIndex, first, end, stride, n } = run;
  let sumG = 0;
  let sumGY = 0;
  for (let i = first; i < end; i += stride) {
    sumG += g[i]!;
    sumGY += g[i]! * y[i]!;
  }
  const m = sumG / n;
  const v = sumGY / n;
  const r = rstd[rIndex]!;
  for (let i = first; i < end; i += stride) dx[i] = r * (g[i]! - m - y[i]! * v);
}

/** The gradient of INSTANCE_NORM: needs its two outputs; the gradient reaching r (unused) is ignored. */
export function instanceNormGradConfig(
  runKernel: (name: string, ins: Record<string, Tensor>, attrs: NamedAttrMap) => Tensor,
): GradConfig {
  return {
    kernelName: INSTANCE_NORM,
    outputsToSave: [true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
      // One gradient for the one output that gets one (y), and the two outputs saved above.
      const dy = must(Array.isArray(dys) ? dys[0] : dys, 'the gradient of y');
      const y = must(saved[0], 'the saved y');
      const rstd = must(saved[1], 'the saved r');
      return { x: () => runKernel(INSTANCE_NORM_GRAD, { dy, y, rstd }, {}) };
    },
  };
}
