/**
 * Runs another kernel of the same backend from inside a kernel, and frees intermediate results.
 *
 * The kernels in this folder are compositions of kernels the wasm backend already has (its XNNPACK
 * forward convolution, transpose, slice). Calling those kernel functions directly, rather than
 * through tfjs-core ops, keeps the intermediates off the gradient tape and out of the engine's
 * tensor bookkeeping, so a composite kernel behaves exactly like a native one.
 */
import {
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/**
 * Calls kernel `name` registered for `backend`'s name (e.g. 'wasm') with the given inputs and attributes.
 * Throws when the kernel is absent, naming it, so a missing building block is reported clearly.
 */
export function callKernel(
  backendName: string,
  backend: KernelBackend,
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = getKernel(name, backendName);
  if (kernel === undefined) {
    throw new Error(
      `Kernel '${name}' is not registered for backend '${backendName}'; it is needed to build a composite kernel.`,
    );
  }
  const result = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(result)) throw new Error(`Kernel '${name}' returned several outputs where one was expected.`);
  return result;
}

/** Frees an intermediate result. The backend reference-counts data, so results that alias an input stay valid. */
export function disposeIntermediate(backend: KernelBackend, info: TensorInfo): void {
  backend.disposeData(info.dataId);
}
