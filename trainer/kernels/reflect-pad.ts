/**
 * The gradient of reflection padding as one kernel.
 *
 * Reflection padding copies border pixels, so its adjoint adds each padded pixel's gradient onto the
 * pixel it was copied from. Composed from ops (trainer/layers/pad.ts `foldReflection`) that takes six
 * slices, two reversals, four pads and two sums per layer, each a pass over the activation; the wasm
 * backend's Slice copies one pixel at a time. This kernel makes one pass over dy.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { runTyped, shape4 } from './typed-kernel';

export const REFLECT_PAD_GRAD = 'PeerstyleReflectPadGrad';

/** Source index of padded index i (already shifted by −p) along an axis of length n. */
function reflectIndex(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

/** dy [B, H + 2p, W + 2p, C] → dx [B, H, W, C] (attribute `padding` = p). */
export function reflectPadGradKernel(backendName: string): KernelConfig {
  return {
    kernelName: REFLECT_PAD_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy } = inputs as { dy: TensorInfo };
      const { padding: p } = attrs as unknown as { padding: number };
      const [b, hp, wp, c] = shape4(dy);
      const h = hp - 2 * p;
      const w = wp - 2 * p;
      return runTyped(backend, [dy], [[b, h, w, c]], ([g], [dx]) => {
        const rows = Array.from({ length: hp }, (_, i) => reflectIndex(i - p, h));
        const cols = Array.from({ length: wp }, (_, j) => reflectIndex(j - p, w));
        for (let s = 0; s < b; s++) {
          // The centre first, as a copy, so that dx needs no zero fill; then the border strips added on.
          for (let i = 0; i < h; i++) {
            const src = ((s * hp + i + p) * wp + p) * c;
            dx.set(g.subarray(src, src + w * c), (s * h + i) * w * c);
          }
          for (let i = 0; i < hp; i++) {
            const inside = i >= p && i < p + h;
            const dstRow = (s * h + rows[i]!) * w;
            const srcRow = (s * hp + i) * wp;
            for (let j = 0; j < wp; j++) {
              if (inside && j >= p && j < p + w) continue;
              const src = (srcRow + j) * c;
              const dst = (dstRow + cols[j]!) * c;
              for (let k = 0; k < c; k++) dx[dst + k]! += g[src + k]!;
            }
          }
        }
      })[0];
    },
  };
}
