/**
 * Instance normalisation as one kernel with a hand-written gradient.
 *
 * Composed from tfjs-core ops (moments, sub, add, sqrt, div), instance norm costs about ten kernel calls
 * forward and twenty backward, each a full pass over the activation with its own allocation; a `small`
 * training iteration runs some sixty of them. Here the forward pass is three passes (mean, variance,
 * output) and the backward pass two, with the statistics kept in float64.
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
        const n = h * w;
        const sum = new Float64Array(c);
        for (let s = 0; s < b; s++) {
          const base = s * n * c;
          sum.fill(0);
          for (let i = base, end = base + n * c; i < end; i += c) {
            for (let k = 0; k < c; k++) sum[k]! += xv[i + k]!;
          }
          const mean = sum.map((v) => v / n);
          sum.fill(0);
          for (let i = base, end = base + n * c; i < end; i += c) {
            for (let k = 0; k < c; k++) {
              const d = xv[i + k]! - mean[k]!;
              sum[k]! += d * d;
            }
          }
          const r = sum.map((v) => 1 / Math.sqrt(v / n + eps));
          for (let i = base, end = base + n * c; i < end; i += c) {
            for (let k = 0; k < c; k++) y[i + k] = (xv[i + k]! - mean[k]!) * r[k]!;
          }
          for (let k = 0; k < c; k++) rstd[s * c + k] = r[k]!;
        }
      });
    },
  };
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
        const n = h * w;
        const sumG = new Float64Array(c);
        const sumGY = new Float64Array(c);
        for (let s = 0; s < b; s++) {
          const base = s * n * c;
          sumG.fill(0);
          sumGY.fill(0);
          for (let i = base, end = base + n * c; i < end; i += c) {
            for (let k = 0; k < c; k++) {
              const gi = g[i + k]!;
              sumG[k]! += gi;
              sumGY[k]! += gi * yv[i + k]!;
            }
          }
          const m1 = sumG.map((v) => v / n);
          const m2 = sumGY.map((v) => v / n);
          const scale = r.subarray(s * c, s * c + c);
          for (let i = base, end = base + n * c; i < end; i += c) {
            for (let k = 0; k < c; k++) dx[i + k] = scale[k]! * (g[i + k]! - m1[k]! - yv[i + k]! * m2[k]!);
          }
        }
      })[0];
    },
  };
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
