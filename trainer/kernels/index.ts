/**
 * Fused kernels for the layers whose tfjs-core compositions cost many passes over memory: instance norm
 * (forward and backward), PReLU with one shared slope (forward and backward) and the gradient of
 * reflection padding. Written over typed arrays, so they run
 * on the cpu and wasm backends; on any other backend (the native TensorFlow binding) the layers keep
 * their composite ops, which that backend runs natively.
 *
 * This is the public surface of the folder. Registration happens on first use, per backend, so that
 * importing a layer does no work and tests that pick a backend with `tf.setBackend` get the same kernels
 * as training does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INSTANCE_NORM, instanceNormGradConfig, instanceNormGradKernel, instanceNormKernel } from './instance-norm';
import { REFLECT_PAD_GRAD, reflectPadGradKernel } from './reflect-pad';
import { SHARED_PRELU, sharedPreluGradConfig, sharedPreluGradKernel, sharedPreluKernel } from './prelu';

/** The backends these kernels are written for. */
const TYPED_BACKENDS = new Set(['cpu', 'wasm']);

const ready = new Set<string>();
let fallbackForced = false;

/** Runs the composite ops even where the fused kernels exist (for tests that compare the two). */
export function forceCompositeLayers(on: boolean): void {
  fallbackForced = on;
}

const runKernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;

/**
 * Registers the fused kernels for `backend` if they are written for it (cpu, wasm); returns whether
 * they are available there. Layers call it on first use; the backend module calls it at start-up so
 * that profilers that wrap every kernel of the backend see these too.
 */
export function registerFusedKernels(backend: string): boolean {
  if (ready.has(backend)) return true;
  if (!TYPED_BACKENDS.has(backend)) return false;
  for (const config of [
    instanceNormKernel(backend),
    instanceNormGradKernel(backend),
    reflectPadGradKernel(backend),
    sharedPreluKernel(backend),
    sharedPreluGradKernel(backend),
  ]) {
    if (tf.getKernel(config.kernelName, backend) === undefined) tf.registerKernel(config);
  }
  if (tf.getGradient(INSTANCE_NORM) === undefined) tf.registerGradient(instanceNormGradConfig(runKernel));
  if (tf.getGradient(SHARED_PRELU) === undefined) tf.registerGradient(sharedPreluGradConfig(runKernel));
  ready.add(backend);
  return true;
}

/** True when the current backend has the fused kernels (registering them on first use). */
function fusedAvailable(): boolean {
  return !fallbackForced && registerFusedKernels(tf.getBackend());
}

/**
 * Instance norm of x [B, H, W, C] with the fused kernel, or undefined when the backend lacks it.
 * Differentiable: its gradient is the fused backward kernel.
 */
export function fusedInstanceNorm(x: tf.Tensor4D, eps: number): tf.Tensor4D | undefined {
  if (!fusedAvailable()) return undefined;
  const [y] = tf.engine().runKernel(INSTANCE_NORM, { x }, { eps }) as tf.Tensor[];
  return y as tf.Tensor4D;
}

/**
 * PReLU of x with one shared slope `alpha` [1] with the fused kernel, or undefined when the backend lacks
 * it. Differentiable in both: the gradients are the fused backward kernel's.
 */
export function fusedSharedPrelu<T extends tf.Tensor>(x: T, alpha: tf.Tensor): T | undefined {
  if (!fusedAvailable() || alpha.size !== 1 || x.dtype !== 'float32') return undefined;
  return tf.engine().runKernel(SHARED_PRELU, { x, alpha }, {}) as T;
}

/**
 * The adjoint of reflection padding by `padding` on H and W: dy [B, H + 2p, W + 2p, C] → [B, H, W, C],
 * or undefined when the backend lacks the kernel. Not differentiable (it is itself a gradient).
 */
export function fusedReflectPadGrad(dy: tf.Tensor4D, padding: number): tf.Tensor4D | undefined {
  if (!fusedAvailable()) return undefined;
  return runKernel(REFLECT_PAD_GRAD, { dy }, { padding }) as tf.Tensor4D;
}
