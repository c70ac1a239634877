/**
 * Registers the kernels the wasm backend needs for training and does not ship, or ships too slowly.
 *
 * The set was found by taking tf.variableGrads, on wasm, of a composite of every op TSPR uses (the
 * convolutions at all their kernel sizes, strides and paddings, transposed convolutions, reflection
 * padding, instance norm, the activations, the attention's matMul/softmax/softplus, the losses' reductions
 * and comparisons, tf.customGrad) and recording each kernel reported missing; the wasm-kernels test
 * repeats that check. Only Conv2DBackpropFilter is missing; Conv2DBackpropInput exists but is replaced
 * because it is a direct loop about ten times slower than the XNNPACK forward convolution, and
 * BatchMatMul is wrapped because its transposed-operand path is 10-60 times slower than the plain one;
 * Identity shares its input's buffer instead of copying it.
 *
 * This is the public surface of the folder: the backend module calls `registerWasmGradientKernels`.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { batchMatMulConfig } from './batch-matmul';
import { identityConfig } from './identity';

const WASM = 'wasm';

/** The backend's own BatchMatMul and Identity, kept before they are replaced: the replacements delegate to them. */
let originalBatchMatMul: KernelConfig['kernelFunc'] | undefined;
let originalIdentity: KernelConfig['kernelFunc'] | undefined;

/** The kernels, in registration order, each built for the wasm backend. */
function wasmKernelConfigs(): KernelConfig[] {
  if (!originalBatchMatMul) {
    const shipped = getKernel('BatchMatMul', WASM);
    if (!shipped)
      throw new Error('The wasm backend has no BatchMatMul kernel; import @tensorflow/tfjs-backend-wasm first.');
    originalBatchMatMul = shipped.kernelFunc;
  }
  if (!originalIdentity) {
    const shipped = getKernel('Identity', WASM);
    if (!shipped)
      throw new Error('The wasm backend has no Identity kernel; import @tensorflow/tfjs-backend-wasm first.');
    originalIdentity = shipped.kernelFunc;
  }
  return [
    // Every matMul with a transposed operand: TPFR distances (a·bᵀ) and the gradient of every matMul.
    // Replaced for speed: the shipped kernel is 10-60× slower on transposed operands.
    batchMatMulConfig(WASM, originalBatchMatMul),
    // Gradient of tf.conv2d w.r.t. the filter, and of tf.conv2dTranspose w.r.t. its filter. Missing on wasm.
    conv2dBackpropFilterConfig(WASM),
    // Gradient of tf.conv2d w.r.t. its input, and the forward pass of tf.conv2dTranspose. Replaced for speed.
    conv2dBackpropInputConfig(WASM),
    // Every tensor saved for the backward pass is cloned through it. Replaced to share instead of copy.
    identityConfig(WASM, originalIdentity),
  ];
}

/** Marks kernels this module installed, so that a second call recognises its own work. */
const installed = new WeakSet<object>();

/**
 * Registers the training kernels for the 'wasm' backend, replacing any existing registration of the
 * same name. Idempotent: a later call leaves the kernels in place. Call it after importing
 * @tensorflow/tfjs-backend-wasm; the kernels take effect at once, even on an initialised backend.
 *
 * @returns the kernel names, e.g. `['Conv2DBackpropFilter', 'Conv2DBackpropInput']`.
 */
export function registerWasmGradientKernels(): string[] {
  const names: string[] = [];
  for (const config of wasmKernelConfigs()) {
    const current = getKernel(config.kernelName, WASM);
    if (current === undefined || !installed.has(current)) {
      if (current !== undefined) unregisterKernel(config.kernelName, WASM);
      registerKernel(config);
      const registered = getKernel(config.kernelName, WASM);
      if (registered !== undefined) installed.add(registered);
    }
    names.push(config.kernelName);
  }
  return names;
}
