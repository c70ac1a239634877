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
 * Identity shares its input's buffer instead of copying it; Slice and SplitV copy whole contiguous runs
 * instead of one innermost row at a time; Sum over leading axes sums columns in place instead of
 * transposing first.
 *
 * This is the public surface of the folder: the backend module calls `registerWasmGradientKernels`.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { batchMatMulConfig } from './batch-matmul';
import { identityConfig } from './identity';
import { sliceConfig, splitVConfig } from './slice';
import { sumConfig } from './sum';

const WASM = 'wasm';

/** The backend's own kernels, kept before they are replaced: the replacements delegate to them. */
const originals = new Map<string, KernelConfig['kernelFunc']>();

function original(name: string): KernelConfig['kernelFunc'] {
  let kernel = originals.get(name);
  if (!kernel) {
    const shipped = getKernel(name, WASM);
    if (!shipped)
      throw new Error(`The wasm backend has no ${name} kernel; import @tensorflow/tfjs-backend-wasm first.`);
    kernel = shipped.kernelFunc;
    originals.set(name, kernel);
  }
  return kernel;
}

/** The kernels, in registration order, each built for the wasm backend. */
function wasmKernelConfigs(): KernelConfig[] {
  return [
    // Every matMul with a transposed operand: TPFR distances (a·bᵀ) and the gradient of every matMul.
    // Replaced for speed: the shipped kernel is 10-60× slower on transposed operands.
    batchMatMulConfig(WASM, original('BatchMatMul')),
    // Gradient of tf.conv2d w.r.t. the filter, and of tf.conv2dTranspose w.r.t. its filter. Missing on wasm.
    conv2dBackpropFilterConfig(WASM),
    // Gradient of tf.conv2d w.r.t. its input, and the forward pass of tf.conv2dTranspose. Replaced for speed.
    conv2dBackpropInputConfig(WASM),
    // Every tensor saved for the backward pass is cloned through it. Replaced to share instead of copy.
    identityConfig(WASM, original('Identity')),
    // Reflection-pad gradients, latent and batch splits. Replaced for speed: the shipped ones copy row by row.
    sliceConfig(WASM, original('Slice')),
    splitVConfig(WASM, original('SplitV')),
    // Bias and broadcast gradients (sums over N, H, W). Replaced for speed: the shipped one transposes first.
    sumConfig(WASM, original('Sum')),
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
