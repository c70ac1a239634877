/**
 * BatchMatMul for the wasm backend, replacing the shipped kernel for transposed operands.
 *
 * wasm's BatchMatMul is fast for plain products but runs 10 to 60 times slower when asked to transpose
 * an operand (measured on [1024, 1024]·[1024, 128]: 9 ms plain, 560 ms with transposeA). The TPFR layer's
 * distances use a·bᵀ, and the gradient of every matMul (attention, MLPs) uses Aᵀ·dY and dY·Bᵀ, so
 * training pays that price on every iteration. This kernel transposes the operand explicitly with the
 * backend's Transpose kernel and then calls the original kernel without transpose flags.
 */
import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { callKernel, disposeIntermediate } from './call-kernel';

/**
 * Builds the kernel config for `backendName`, delegating products to `original` (the backend's own
 * BatchMatMul kernel function, captured before this one replaces it).
 */
export function batchMatMulConfig(backendName: string, original: KernelFunc): KernelConfig {
  return {
    kernelName: BatchMatMul,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
      const kb = backend as KernelBackend;
      // Swap the last two axes, whatever the rank (tf.matMul passes rank-3 operands).
      const swapLast = (x: TensorInfo): TensorInfo => {
        const perm = x.shape.map((_, i) => i);
        const r = perm.length;
        [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
        return callKernel(backendName, kb, 'Transpose', { x }, { perm } as unknown as NamedAttrMap);
      };
      const aa = transposeA ? swapLast(a) : a;
      const bb = transposeB ? swapLast(b) : b;
      const out = original({
        inputs: { a: aa, b: bb },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
      if (aa !== a) disposeIntermediate(kb, aa);
      if (bb !== b) disposeIntermediate(kb, bb);
      return out;
    },
  };
}
