/**
 * PReLU with one shared slope (PyTorch's nn.PReLU(), the encoder's residual blocks) as one kernel forward
 * and one backward.
 *
 * tf.prelu broadcasts its [1] slope through the wasm backend's general path, about 20 ns per element at
 * `small`'s [4, 32, 32, 64] activations, and its gradient is a compare, two selects, two products and a
 * sum, each a pass of its own. Here the forward pass is one pass, and each gradient one more.
 *
 * Forward: y = x for x > 0, a·x otherwise. Backward: dx = dy for x > 0, a·dy otherwise; da = Σ dy·x over
 * the elements with x ≤ 0 (summed in float64).
 */
import type { GradConfig, KernelConfig, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { must } from '../../functions/core/must';
import { runTyped } from './typed-kernel';

export const SHARED_PRELU = 'PeerstyleSharedPrelu';
export const SHARED_PRELU_GRAD = 'PeerstyleSharedPreluGrad';

/**
 * The loops choose between the two slopes without a branch: activations are positive or not at random,
 * and a branch on the sign was mispredicted often enough to run 3-4 times slower than on all-positive
 * input. They read each value's bits instead: a float32 is > 0 exactly when its bits, as an int32, are.
 */
function signBits(values: Float32Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length);
}

/**
 * 1 when the float32 with these bits is > 0, else 0; also 1 for −0, whose bits (−2³¹) negate to
 * themselves. That changes nothing forward (a·−0 = −0) and only the input's gradient at exactly −0.
 */
function positive(bits: number): number {
  return -bits >>> 31; // the top bit of −bits: set exactly when bits > 0 (and for −2³¹)
}

/** Forward: x (any shape) and alpha [1] → y of x's shape. */
export function sharedPreluKernel(backendName: string): KernelConfig {
  return {
    kernelName: SHARED_PRELU,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { x, alpha } = inputs as { x: TensorInfo; alpha: TensorInfo };
      return runTyped(backend, [x, alpha], [x.shape], ([xv, av], [y]) => {
        const a = must(av[0], 'the slope');
        const bits = signBits(xv);
        for (let i = 0; i < xv.length; i++) y[i] = xv[i]! * (a + (1 - a) * positive(bits[i]!));
      })[0];
    },
  };
}

/** Which gradient a backward kernel run makes: tfjs asks for each input's gradient in a scope of its own. */
type GradTarget = 'x' | 'alpha';

/** Backward: dy, x (one shape) and alpha [1] → dx of x's shape (target 'x') or dalpha [1] (target 'alpha'). */
export function sharedPreluGradKernel(backendName: string): KernelConfig {
  return {
    kernelName: SHARED_PRELU_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, x, alpha } = inputs as { dy: TensorInfo; x: TensorInfo; alpha: TensorInfo };
      const { target } = attrs as unknown as { target: GradTarget };
      if (target === 'alpha') {
        return runTyped(backend, [dy, x], [[1]], ([g, xv], [da]) => {
          const bits = signBits(xv);
          let slope = 0;
          for (let i = 0; i < xv.length; i++) slope += g[i]! * xv[i]! * (1 - positive(bits[i]!));
          da[0] = slope;
        })[0];
      }
      return runTyped(backend, [dy, x, alpha], [x.shape], ([g, xv, av], [dx]) => {
        const a = must(av[0], 'the slope');
        const bits = signBits(xv);
        for (let i = 0; i < xv.length; i++) dx[i] = g[i]! * (a + (1 - a) * positive(bits[i]!));
      })[0];
    },
  };
}

/**
 * The gradient of SHARED_PRELU. Each input's gradient is its own kernel run: tfjs runs each gradient
 * in a scope that frees every other tensor made in it, so one run yielding both would lose one.
 */
export function sharedPreluGradConfig(
  runKernel: (name: string, ins: Record<string, Tensor>, attrs: NamedAttrMap) => Tensor,
): GradConfig {
  return {
    kernelName: SHARED_PRELU,
    inputsToSave: ['x', 'alpha'],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
      const dy = must(Array.isArray(dys) ? dys[0] : dys, 'the gradient of y');
      const x = must(saved[0], 'the saved x');
      const alpha = must(saved[1], 'the saved slope');
      const grad = (target: GradTarget) => () => runKernel(SHARED_PRELU_GRAD, { dy, x, alpha }, { target });
      return { x: grad('x'), alpha: grad('alpha') };
    },
  };
}
